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
    /// <remarks>
    /// With a weight matrix as second operand (a linear layer), channels on the last axis are read by the weight's
    /// rows and the output carries a new space of the weight's columns; channels on an earlier axis pass through.
    /// Products of two computed values (attention) block.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        var weight = flow.IsWeight(node.Inputs[1]) ? flow.Shape(node.Inputs[1]) : null;
        if (weight is not { Length: 2 } || flow.Input(1) != null)
        {
            if (flow.Input(0) != null || flow.Input(1) != null) flow.Block("product of computed values");
            return;
        }
        int rank = flow.Shape(node.Inputs[0])!.Length;
        if (flow.Input(0) is { } channels)
        {
            if (channels.Axis == rank - 1) flow.Member(node.Inputs[1], 0, channels.Labels, WeightRole.Reads);
            else { flow.SetOutput(0, channels.Axis, channels.Labels); return; }
        }
        var outputs = flow.NewSpace((int)weight[1]);
        flow.Member(node.Inputs[1], 1, outputs, WeightRole.Produces);
        flow.SetOutput(0, rank - 1, outputs);
    }

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
