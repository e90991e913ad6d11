using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Where</c>: picks X where the condition is true and Y elsewhere, with broadcasting of all three.</summary>
public sealed class Where : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Where" };

    /// <inheritdoc />
    public override int MinOpset => 9;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.Elementwise(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context) => Single(inputs =>
    {
        Tensor condition = inputs[0]!;
        if (condition.dtype != ScalarType.Bool) condition = condition.to_type(ScalarType.Bool);
        return where(condition, inputs[1]!, inputs[2]!);
    });
}
