using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>MeanVarianceNormalization</c>: (x − mean) / (sqrt(variance) + 1e-9) over <c>axes</c> (default 0, 2, 3).</summary>
public sealed class MeanVarianceNormalization : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "MeanVarianceNormalization" };

    /// <inheritdoc />
    /// <remarks>Channels pass through when the statistics are per channel (the channel axis is not among the axes).</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        int rank = flow.Shape(flow.Node.Inputs[0])!.Length;
        var axes = flow.Node.GetInts("axes") ?? new long[] { 0, 2, 3 };
        if (axes.Any(a => (a < 0 ? a + rank : a) == channels.Axis)) flow.Block("MeanVarianceNormalization's statistics span the channels");
        else ChannelRules.PassThrough(flow);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long[] axes = node.GetInts("axes")?.ToArray() ?? new long[] { 0, 2, 3 };
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long rank = x.dim();
            if (axes.Any(a => a < -rank || a >= rank))
                throw new GraphException($"node '{node.Name}' (MeanVarianceNormalization): axes [{string.Join(",", axes)}] are out of range for rank {rank}");
            long[] dims = axes.Select(a => a < 0 ? a + rank : a).ToArray();
            Tensor centered = x - x.mean(dims, keepdim: true);
            return centered / (centered.square().mean(dims, keepdim: true).sqrt() + 1e-9);
        });
    }
}
