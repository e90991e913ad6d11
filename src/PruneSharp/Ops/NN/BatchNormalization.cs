using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>BatchNormalization</c>: in eval mode it normalises with the running statistics; in training mode with the
/// batch statistics, updating the running mean and variance buffers (ONNX momentum m keeps m of the old value).
/// A graph whose node sets <c>training_mode</c> (opset 14) uses batch statistics too; if it asks for the optional
/// outputs running_mean and running_var they are returned as ONNX defines them (population variance of the batch)
/// and the buffers are left as they are.
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
        // From opset 14 the training_mode attribute asks for batch statistics explicitly; before it, exports from
        // training mode only list the extra outputs. The module's train()/eval() flag decides otherwise.
        bool attributeTraining = context.Opset >= 14 && node.GetInt("training_mode", 0) != 0;
        int outputs = node.Outputs.Count;
        return (inputs, training) =>
        {
            Tensor x = inputs[0]!, scale = inputs[1]!, bias = inputs[2]!, mean = inputs[3]!, variance = inputs[4]!;
            if (!training && attributeTraining)
            {
                // Batch statistics without touching the buffers (an inference run must not change the model).
                var (batchMean, batchVariance) = BatchStatistics(x);
                var channel = ChannelShape(x);
                Tensor y = (x - batchMean.reshape(channel)) * (batchVariance.reshape(channel) + epsilon).rsqrt() * scale.reshape(channel) + bias.reshape(channel);
                return new[] { y, mean * momentum + batchMean * (1 - momentum), variance * momentum + batchVariance * (1 - momentum), batchMean, batchVariance }[..outputs];
            }
            // In training, torch updates the running-statistics buffers in place.
            Tensor result = nn.functional.batch_norm(x, mean, variance, scale, bias, training, 1 - momentum, epsilon);
            if (outputs == 1) return new[] { result };
            var (saved, savedVariance) = training ? BatchStatistics(x) : (mean, variance);
            return new[] { result, mean, variance, saved, savedVariance }[..outputs];
        };
    }

    static (Tensor Mean, Tensor Variance) BatchStatistics(Tensor x)
    {
        long[] dims = Enumerable.Range(0, (int)x.dim()).Where(d => d != 1).Select(d => (long)d).ToArray();
        return (x.mean(dims), x.var(dims, unbiased: false));
    }

    static long[] ChannelShape(Tensor x) => new[] { 1L, -1L }.Concat(Enumerable.Repeat(1L, (int)x.dim() - 2)).ToArray();
}
