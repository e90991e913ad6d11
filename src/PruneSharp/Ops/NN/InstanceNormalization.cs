using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>InstanceNormalization</c>: normalises each (sample, channel) plane over its spatial dimensions, then applies per-channel scale and bias.</summary>
public sealed class InstanceNormalization : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "InstanceNormalization" };

    /// <inheritdoc />
    /// <remarks>Statistics are per sample and channel, so channels pass through; scale and bias are sliced with them.</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        ChannelRules.PassThrough(flow);
        if (flow.Input(0) is not { Axis: 1 } channels) return;
        for (int i = 1; i <= 2; i++)
            if (flow.IsWeight(flow.Node.Inputs[i])) flow.Member(flow.Node.Inputs[i], 0, channels.Labels, WeightRole.PerChannel);
            else { flow.Block($"InstanceNormalization input {i} is computed, not a weight"); return; }
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        double epsilon = node.GetFloat("epsilon", 1e-5f);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!, scale = inputs[1]!, bias = inputs[2]!;
            if (x.dim() < 3 || scale.numel() != x.shape[1] || bias.numel() != x.shape[1])
                throw new GraphException($"node '{node.Name}' (InstanceNormalization): input [{string.Join(",", x.shape)}] needs rank >= 3 and scale/B of {(x.dim() > 1 ? x.shape[1] : 0)} channels");
            return nn.functional.instance_norm(x, weight: scale.flatten(), bias: bias.flatten(), eps: epsilon);
        });
    }
}
