using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>GlobalAveragePool</c> and <c>GlobalMaxPool</c>: reduce every spatial dimension to size 1.</summary>
public sealed class GlobalPool : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "GlobalAveragePool", "GlobalMaxPool" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool average = node.OpType == "GlobalAveragePool";
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] spatial = Enumerable.Range(2, (int)x.dim() - 2).Select(d => (long)d).ToArray();
            return average ? x.mean(spatial, keepdim: true) : x.amax(spatial, keepdim: true);
        });
    }
}
