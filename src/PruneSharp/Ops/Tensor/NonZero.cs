using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>NonZero</c>: the int64 indices of non-zero elements, one row per dimension, in row-major order.</summary>
public sealed class NonZero : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "NonZero" };

    /// <inheritdoc />
    public override int MinOpset => 9;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context) => Single(inputs => inputs[0]!.nonzero().t().contiguous());
}
