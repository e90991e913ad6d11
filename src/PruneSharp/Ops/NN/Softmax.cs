using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Softmax</c> and <c>LogSoftmax</c>. From opset 13 they normalise along one axis (default -1); before
/// opset 13 the input is seen as a 2-D matrix, dimensions before <c>axis</c> (default 1) as rows, and each
/// row is normalised as a whole.
/// </summary>
public sealed class Softmax : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Softmax", "LogSoftmax" };

    /// <inheritdoc />
    /// <remarks>Channels pass through unless the softmax may normalise across them (see <see cref="SpansChannels"/>).</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        if (SpansChannels(flow, channels)) flow.Block("softmax normalises across the channels");
        else ChannelRules.PassThrough(flow);
    }

    /// <summary>
    /// True if a softmax-like node may normalise across <paramref name="channels"/>. The channel rule does not know
    /// the opset, so it assumes the union of both forms: from opset 13 the one axis (default -1), before it every
    /// axis from <c>axis</c> (default 1) on.
    /// </summary>
    internal static bool SpansChannels(ChannelFlow flow, ValueChannels channels)
    {
        int rank = flow.Shape(flow.Node.Inputs[0])!.Length;
        long first = flow.Node.Attributes.ContainsKey("axis") ? flow.Node.GetInt("axis", 1) : 1;
        if (first < 0) first += rank;
        return channels.Axis >= first;
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool log = node.OpType == "LogSoftmax";
        bool coerce = context.Opset < 13;
        long axis = node.GetInt("axis", coerce ? 1 : -1);
        Tensor Normalise(Tensor x, long dim) => log ? x.log_softmax(dim) : x.softmax(dim);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long rank = Math.Max(x.dim(), 1);
            if (axis < -rank || axis >= rank)
                throw new GraphException($"node '{node.Name}' ({node.OpType}): axis {axis} is out of range for rank {x.dim()}");
            long a = axis < 0 ? axis + rank : axis;
            if (!coerce) return Normalise(x, a);
            long rows = x.shape.Take((int)a).Aggregate(1L, (p, s) => p * s);
            return Normalise(x.reshape(rows, rows == 0 ? 0 : -1), 1).reshape(x.shape);
        });
    }
}
