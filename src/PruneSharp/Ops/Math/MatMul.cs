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
    /// Other products (attention's q·kᵀ and weights·v) follow <see cref="ComputedProduct"/>.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        var weight = flow.IsWeight(node.Inputs[1]) ? flow.Shape(node.Inputs[1]) : null;
        if (weight is not { Length: 2 } || flow.Input(1) != null)
        {
            if (flow.Input(0) != null || flow.Input(1) != null) ComputedProduct(flow);
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

    /// <summary>
    /// A product of two computed values: channels on a batch (leading) axis pass to the output and are tied with the
    /// other operand's channels there (attention heads of q and k, of the weights and v); channels on the rows of the
    /// first operand or the columns of the second pass to the output's rows or columns. Channels on the summed axis
    /// block, and so does an operand that spans a channel axis without carrying the channels.
    /// </summary>
    static void ComputedProduct(ChannelFlow flow)
    {
        var node = flow.Node;
        var shapes = new[] { flow.Shape(node.Inputs[0]), flow.Shape(node.Inputs[1]) };
        int rank = flow.Shape(node.Outputs[0])?.Length ?? 0;
        if (shapes.Any(s => s is not { Length: >= 2 }) || rank < 2) { flow.Block("product of computed values of unknown or 1-D shape"); return; }
        ChannelLabel[]? labels = null;
        int axis = -1;
        for (int i = 0; i < 2; i++)
        {
            if (flow.Input(i) is not { } channels) continue;
            int own = shapes[i]!.Length;
            int target = channels.Axis < own - 2 ? channels.Axis + rank - own
                : i == 0 && channels.Axis == own - 2 ? rank - 2
                : i == 1 && channels.Axis == own - 1 ? rank - 1
                : -1;
            if (target < 0) { flow.Block("the product sums over the channels"); return; }
            if (labels == null) { labels = channels.Labels; axis = target; }
            else if (target != axis) { flow.Block("product of values that carry channels on different axes"); return; }
            else flow.Tie(labels, channels.Labels);
        }
        if (labels == null) return;
        if (axis < rank - 2)
            for (int i = 0; i < 2; i++)
            {
                int own = axis - (rank - shapes[i]!.Length);
                if (flow.Input(i) == null && own >= 0 && shapes[i]![own] != 1)
                {
                    flow.Block($"'{node.Inputs[i]}' spans the channel axis without carrying the channels");
                    return;
                }
            }
        flow.SetOutput(0, axis, labels);
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
