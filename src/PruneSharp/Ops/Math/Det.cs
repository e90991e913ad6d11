using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Det</c>: the determinant of each square matrix in the last two dimensions.</summary>
public sealed class Det : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Det" };

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context) => Single(inputs =>
    {
        Tensor x = inputs[0]!;
        if (x.dim() < 2 || x.shape[^1] != x.shape[^2])
            throw new GraphException($"node '{node.Name}' (Det): input [{string.Join(",", x.shape)}] is not a (batch of) square matrices");
        return linalg.det(x);
    });
}
