using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Hardmax</c>: 1 at the first maximum along the axis, 0 elsewhere. Like <see cref="Softmax"/>, from opset 13
/// along one axis (default -1), before opset 13 over the input coerced to 2-D at <c>axis</c> (default 1).
/// </summary>
public sealed class Hardmax : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Hardmax" };

    /// <inheritdoc />
    /// <remarks>Channels pass through unless the maximum may be taken across them (see <see cref="Softmax.SpansChannels"/>).</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        if (Softmax.SpansChannels(flow, channels)) flow.Block("Hardmax compares across the channels");
        else ChannelRules.PassThrough(flow);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool coerce = context.Opset < 13;
        long axis = node.GetInt("axis", coerce ? 1 : -1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long rank = Math.Max(x.dim(), 1);
            if (axis < -rank || axis >= rank)
                throw new GraphException($"node '{node.Name}' (Hardmax): axis {axis} is out of range for rank {x.dim()}");
            long a = axis < 0 ? axis + rank : axis;
            Tensor view = x;
            if (coerce)
            {
                long rows = x.shape.Take((int)a).Aggregate(1L, (p, s) => p * s);
                view = x.reshape(rows, rows == 0 ? 0 : -1);
                a = 1;
            }
            Tensor result = zeros_like(view).scatter(a, view.argmax(a, keepdim: true), ones_like(view));
            return result.reshape(x.shape);
        });
    }
}
