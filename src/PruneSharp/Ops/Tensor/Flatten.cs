using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Flatten</c>: reshapes to 2-D, dimensions before <c>axis</c> into the first, the rest into the second.</summary>
public sealed class Flatten : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Flatten" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        var shape = flow.Shape(flow.Node.Inputs[0])!;
        long axis = flow.Node.GetInt("axis", 1);
        if (axis < 0) axis += shape.Length;
        if (axis != 1 || channels.Axis != 1) { flow.Block("Flatten other than [N, C, ...] -> [N, C*...]"); return; }
        flow.SetOutput(0, 1, ChannelRules.Blocks(channels.Labels, shape.Skip(2).Aggregate(1L, (p, s) => p * s)));
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long axis = node.GetInt("axis", 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long a = axis < 0 ? axis + x.dim() : axis;
            long outer = 1;
            for (int d = 0; d < a; d++) outer *= x.shape[d];
            return x.reshape(outer, outer == 0 ? 0 : -1);
        });
    }
}
