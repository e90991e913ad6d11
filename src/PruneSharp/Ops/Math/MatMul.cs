using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>MatMul</c> with NumPy semantics: 1-D operands are promoted to a matrix and the added dimension removed
/// afterwards; leading (batch) dimensions broadcast.
/// </summary>
public sealed class MatMul : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "MatMul" };

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context) => Single(inputs =>
    {
        Tensor a = inputs[0]!, b = inputs[1]!;
        long inner = a.shape[^1], other = b.dim() == 1 ? b.shape[0] : b.shape[^2];
        if (a.dim() == 0 || b.dim() == 0 || inner != other)
            throw new GraphException($"node '{node.Name}' (MatMul): shapes [{string.Join(",", a.shape)}] and [{string.Join(",", b.shape)}] cannot be multiplied");
        return a.matmul(b);
    });
}
