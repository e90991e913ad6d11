using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>Element-wise boolean logic with broadcasting: Not, And, Or, Xor.</summary>
public sealed class BooleanOps : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Not", "And", "Or", "Xor" };

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context) => node.OpType switch
    {
        "Not" => Single(inputs => inputs[0]!.logical_not()),
        "And" => Single(inputs => inputs[0]!.logical_and(inputs[1]!)),
        "Or" => Single(inputs => inputs[0]!.logical_or(inputs[1]!)),
        _ => Single(inputs => inputs[0]!.logical_xor(inputs[1]!)),
    };
}
