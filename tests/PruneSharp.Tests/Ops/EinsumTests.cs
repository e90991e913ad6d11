using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class EinsumTests
{
    [Fact]
    public void Einsum_attention_scores_match_a_batched_matmul()
    {
        manual_seed(1);
        var q = randn(2, 3, 4, 5);
        var k = randn(2, 3, 6, 5);
        var y = Run("Einsum", new[] { q, k }, Attrs(("equation", "bhqd,bhkd->bhqk")), opset: 12)[0];
        AssertClose(q.matmul(k.transpose(-1, -2)), y, 1e-5, 1e-5);
    }

    [Fact]
    public void Einsum_implicit_output_and_ellipsis_with_spaces()
    {
        manual_seed(2);
        var a = randn(3, 4);
        var b = randn(4, 5);
        AssertClose(a.matmul(b), Run("Einsum", new[] { a, b }, Attrs(("equation", "ij, jk")), opset: 12)[0], 1e-5, 1e-5);
        var m = randn(2, 3, 3);
        AssertClose(m.diagonal(0, 1, 2), Run("Einsum", new[] { m }, Attrs(("equation", "...ii ->...i")), opset: 12)[0], 0, 0);
    }

    [Fact]
    public void Einsum_with_the_wrong_operand_count_is_rejected()
    {
        var e = Assert.ThrowsAny<PruneSharp.Graph.GraphException>(() => Run("Einsum", new[] { randn(2, 2) }, Attrs(("equation", "ij,jk->ik")), opset: 12));
        Assert.Contains("'node'", e.Message);
    }
}
