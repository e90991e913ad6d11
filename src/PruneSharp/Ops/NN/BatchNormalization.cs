using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>BatchNormalization</c>: in eval mode it normalises with the running statistics; in training mode with the
/// batch statistics, updating the running mean and variance buffers (ONNX momentum m keeps m of the old value).
/// </summary>
public sealed class BatchNormalization : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "BatchNormalization" };

    /// <inheritdoc />
    public override bool IsStateInput(Node node, int index) => index is 3 or 4;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        ChannelRules.PassThrough(flow);
        if (flow.Input(0) is not { Axis: 1 } channels) return;
        for (int i = 1; i <= 4; i++)
            if (flow.IsWeight(flow.Node.Inputs[i])) flow.Member(flow.Node.Inputs[i], 0, channels.Labels, WeightRole.PerChannel);
            else { flow.Block($"BatchNormalization input {i} is computed, not a weight"); return; }
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        double epsilon = node.GetFloat("epsilon", 1e-5f);
        double momentum = node.GetFloat("momentum", 0.9f);
        return (inputs, training) =>
        {
            Tensor x = inputs[0]!, scale = inputs[1]!, bias = inputs[2]!, mean = inputs[3]!, variance = inputs[4]!;
            Tensor y = nn.functional.batch_norm(x, mean, variance, scale, bias, training, 1 - momentum, epsilon);
            return new[] { y };
        };
    }
}
