using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>SoftmaxCrossEntropyLoss</c> (opset 12): the <see cref="NegativeLogLikelihoodLoss"/> of the log-softmax of the
/// scores over axis 1, with the same weights, <c>ignore_index</c> and <c>reduction</c>; the optional second
/// output is that log-softmax.
/// </summary>
public sealed class SoftmaxCrossEntropyLoss : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "SoftmaxCrossEntropyLoss" };

    /// <inheritdoc />
    public override int MinOpset => 12;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) != null) flow.Block($"{flow.Node.OpType} normalises across the classes");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var loss = Loss.Read(node);
        bool wantLogProbabilities = node.Outputs.Count > 1 && node.Outputs[1].Length > 0;
        return (inputs, _) =>
        {
            Tensor scores = inputs[0]!;
            if (scores.dim() < 2)
                throw new GraphException($"node '{node.Name}' (SoftmaxCrossEntropyLoss): scores [{string.Join(",", scores.shape)}] need shape (N, C, d…)");
            Tensor logProbabilities = scores.log_softmax(1);
            Tensor value = loss.Compute(logProbabilities, inputs[1]!, inputs.Length > 2 ? inputs[2] : null);
            return wantLogProbabilities ? new[] { value, logProbabilities } : new[] { value };
        };
    }
}
