using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Clip</c>: limits values to [min, max]; the bounds are attributes before opset 11 and optional inputs from 11.
/// Where min exceeds max every value becomes max.
/// </summary>
public sealed class Clip : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Clip" };

    /// <inheritdoc />
    public override int MinOpset => 6;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (context.Opset < 11)
        {
            float low = node.GetFloat("min", float.MinValue), high = node.GetFloat("max", float.MaxValue);
            return Single(inputs => inputs[0]!.clamp(low, high));
        }
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            Tensor? low = inputs.Length > 1 ? inputs[1] : null, high = inputs.Length > 2 ? inputs[2] : null;
            if (low is null && high is null) return x;
            if (low is not null) x = x.maximum(low.to_type(x.dtype));
            if (high is not null) x = x.minimum(high.to_type(x.dtype));
            return x;
        });
    }
}
