using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Expand</c>: broadcasts the input and the given shape against each other (either may be the larger).</summary>
public sealed class Expand : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Expand" };

    /// <inheritdoc />
    public override int MinOpset => 8;

    /// <inheritdoc />
    /// <remarks>
    /// Broadcasting keeps every dimension larger than 1, so channels pass through (moved by the ranks' difference). A
    /// weight of shape [1, …, 1, C] broadcast over the batch (a transformer's class token) produces C channels on the
    /// last axis: its entries.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        if (flow.Input(1) != null) { flow.Block("Expand's target shape carries channels"); return; }
        var channels = flow.Input(0);
        if (flow.Shape(node.Inputs[0]) is not { } input || flow.Shape(node.Outputs[0]) is not { } output)
        {
            if (channels != null) flow.Block("Expand shapes unknown");
            return;
        }
        // A constant target must leave the channel axis to the input (1); a computed one is what exporters write for
        // expand(n, -1, -1), with 1 for every kept dimension (one that fixed the channel count would stop the pruned
        // model at this node, never make it compute something else).
        int channelAxis = channels != null ? channels.Axis + output.Length - input.Length : output.Length - 1;
        if (flow.Constant(node.Inputs[1]) is { } target)
        {
            long[] dims = target.to_type(ScalarType.Int64).data<long>().ToArray();
            int at = channelAxis - (output.Length - dims.Length);
            if (at >= 0 && dims[at] != 1)
            {
                if (channels != null) flow.Block("Expand's constant target fixes the channel count");
                return;
            }
        }
        if (channels != null)
        {
            int axis = channels.Axis + output.Length - input.Length;
            if (output[axis] == channels.Labels.Length) flow.SetOutput(0, axis, channels.Labels);
            else flow.Block("Expand broadcasts the channel axis");
            return;
        }
        if (flow.IsWeight(node.Inputs[0]) && input.Length > 0 && input[^1] > 1 && input[..^1].All(d => d == 1))
            ChannelRules.WeightChannels(flow, node.Inputs[0], input.Length - 1, input[^1], output.Length - 1);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var shapeOf = OpArgs.IntsInput(node, context, 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] target = shapeOf(inputs) ?? throw OpArgs.Error(node, "shape is missing");
            long[] shape = Broadcast(node, OpArgs.Shape(x), target);
            // The expanded view costs nothing, but whatever reads it materialises the computed shape.
            Engine.MemoryGuard.CheckComputed(node, shape, x.dtype);
            return x.expand(shape);
        });
    }

    /// <summary>The NumPy broadcast of two shapes.</summary>
    internal static long[] Broadcast(Node node, long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            long x = d - rank + a.Length >= 0 ? a[d - rank + a.Length] : 1;
            long y = d - rank + b.Length >= 0 ? b[d - rank + b.Length] : 1;
            if (x != y && x != 1 && y != 1)
                throw OpArgs.Error(node, $"shapes [{string.Join(",", a)}] and [{string.Join(",", b)}] do not broadcast");
            result[d] = x == 1 ? y : x;
        }
        return result;
    }
}
