using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class MatMulTests
{
    /// <summary>Matrix product as a broadcast element-wise product summed over the shared dimension.</summary>
    static Tensor Broadcast(Tensor a, Tensor b) => (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2);

    [Fact]
    public void MatMul_broadcasts_batch_dimensions()
    {
        manual_seed(1);
        var a = randn(2, 1, 3, 4);
        var b = randn(5, 4, 2);
        AssertClose(Broadcast(a, b), Run("MatMul", new[] { a, b })[0]);
    }

    [Fact]
    public void MatMul_promotes_and_removes_vector_dimensions()
    {
        manual_seed(2);
        var v = randn(4);
        var m = randn(3, 4, 5);
        var left = Run("MatMul", new[] { v, m })[0];
        Assert.Equal(new long[] { 3, 5 }, left.shape);
        AssertClose(Broadcast(v.unsqueeze(0), m).squeeze(-2), left);
        var w = randn(5);
        var right = Run("MatMul", new[] { m, w })[0];
        Assert.Equal(new long[] { 3, 4 }, right.shape);
        AssertClose(Broadcast(m, w.unsqueeze(-1)).squeeze(-1), right);
    }

    [Fact]
    public void MatMul_rejects_mismatched_inner_dimensions_naming_the_node()
    {
        var e = Assert.ThrowsAny<PruneSharp.Graph.GraphException>(() => Run("MatMul", new[] { randn(2, 3), randn(4, 2) }));
        Assert.Contains("'node'", e.Message);
    }
}
