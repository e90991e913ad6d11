using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Shape</c> (a 1-D int64 tensor of the input's dimensions, optionally the slice [start, end) from opset 15)
/// and <c>Size</c> (an int64 scalar, the number of elements).
/// </summary>
public sealed class Shape : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Shape", "Size" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    /// <remarks>The output carries no channels; reading the size of the channel axis (or Size's element count) blocks.</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        var node = flow.Node;
        if (node.OpType == "Size") { flow.Block("Size counts the channels"); return; }
        int rank = flow.Shape(node.Inputs[0])!.Length;
        long Clamp(long i) => Math.Clamp(i < 0 ? i + rank : i, 0, rank);
        long from = Clamp(node.GetInt("start", 0)), to = node.Attributes.ContainsKey("end") ? Clamp(node.GetInt("end", 0)) : rank;
        if (channels.Axis >= from && channels.Axis < to) flow.Block("Shape reads the size of the channel axis");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (node.OpType == "Size")
            return Single(inputs => tensor(inputs[0]!.numel(), ScalarType.Int64));
        long start = node.GetInt("start", 0);
        long? end = node.Attributes.ContainsKey("end") ? node.GetInt("end", 0) : null;
        return Single(inputs =>
        {
            long[] shape = OpArgs.Shape(inputs[0]!);
            long rank = shape.Length;
            long Clamp(long i) => Math.Clamp(i < 0 ? i + rank : i, 0, rank);
            long from = Clamp(start), to = end is long e ? Clamp(e) : rank;
            return tensor(shape[(int)from..(int)Math.Max(from, to)], ScalarType.Int64);
        });
    }
}
