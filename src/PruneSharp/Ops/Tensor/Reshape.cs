using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Reshape</c>: 0 copies the input's dimension (unless <c>allowzero</c>), -1 is inferred.</summary>
public sealed class Reshape : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Reshape" };

    /// <inheritdoc />
    /// <remarks>
    /// The batch (axis 0) must be kept and the target must be a constant (surgery rewrites it). Reshapes that merge
    /// the channel axis with neighbouring axes (flattening [N, C, H, W] → [N, C·H·W], or [N, C/g, g, H, W] → [N, C, H, W]
    /// at the end of a channel shuffle) carry each channel to every position of the merged axis whose coordinate
    /// it is. Splitting the channel axis of a feature map into two ([N, C, H, W] → [N, g, C/g, H, W], the start of a
    /// channel shuffle) ties the g blocks position by position, so that every block loses the same positions and the
    /// split stays valid; the channels continue on the inner axis. Other reshapes of channels block.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(1) != null) { flow.Block("Reshape target carries channels"); return; }
        if (flow.Input(0) is not { } channels) return;
        var input = flow.Shape(flow.Node.Inputs[0])!;
        var output = flow.Shape(flow.Node.Outputs[0])!;
        if (channels.Axis == 0 || output.Length == 0 || output[0] != input[0])
        {
            flow.Block("Reshape of channels that does not keep the batch axis");
            return;
        }
        if (flow.Constant(flow.Node.Inputs[1]) is null) { flow.Block("Reshape target is computed at run time"); return; }
        if (Merge(input, output, channels.Labels, channels.Axis) is { } merged) flow.SetOutput(0, merged.Axis, merged.Labels);
        else if (channels.Axis == 1 && SplitInTwo(input, output) is long blocks)
        {
            int width = channels.Labels.Length / (int)blocks;
            var first = channels.Labels[..width];
            for (int b = 1; b < blocks; b++) flow.Tie(first, channels.Labels[(b * width)..((b + 1) * width)]);
            flow.SetOutput(0, 2, first);
        }
        else flow.Block("Reshape of channels other than merging the channel axis with its neighbours, or splitting [N, C, ...] into [N, g, C/g, ...]");
    }

    /// <summary>
    /// The output axis k that holds the whole channel digit of the input's flat index (inner(k) divides the input's
    /// inner size, and the axis spans at least one full cycle of channels), with the channel of each of its positions.
    /// </summary>
    static (int Axis, ChannelLabel[] Labels)? Merge(long[] input, long[] output, ChannelLabel[] labels, int axis)
    {
        long inner = Product(input, axis + 1), channels = input[axis];
        for (int k = 1; k < output.Length; k++)
        {
            long outputInner = Product(output, k + 1);
            if (outputInner == 0 || inner % outputInner != 0 || output[k] * outputInner % (inner * channels) != 0) continue;
            long stride = inner / outputInner;
            var result = new ChannelLabel[output[k]];
            for (long q = 0; q < output[k]; q++) result[q] = labels[q / stride % channels];
            return (k, result);
        }
        return null;
    }

    /// <summary>g when <paramref name="output"/> is <paramref name="input"/> with axis 1 split into [g, C/g] and the rest kept.</summary>
    static long? SplitInTwo(long[] input, long[] output)
    {
        if (output.Length != input.Length + 1 || output[1] * output[2] != input[1] || output[1] < 2) return null;
        for (int d = 2; d < input.Length; d++) if (input[d] != output[d + 1]) return null;
        return output[1];
    }

    static long Product(long[] shape, int from) => shape.Skip(from).Aggregate(1L, (p, s) => p * s);

    /// <inheritdoc />
    /// <remarks>The entry of the target at the output's channel axis becomes its new width (unless it is −1, which stays inferred).</remarks>
    public override Node Rewire(Node node, RewireContext context)
    {
        if (context.Survivors(node.Outputs[0]) is not { } survivors || context.Constant(node.Inputs[1]) is not { } target) return node;
        long[] shape = target.data<long>().ToArray();
        if (survivors.Axis >= shape.Length || shape[survivors.Axis] == -1) return node;
        shape[survivors.Axis] = survivors.Count;
        string name = $"{node.Name}.pruned_shape";
        context.SetConstant(name, TorchSharp.torch.tensor(shape));
        return new Node(node.Name, node.OpType, new[] { node.Inputs[0], name }, node.Outputs, node.Attributes, node.Domain);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool allowZero = node.GetInt("allowzero", 0) != 0;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] shape = inputs[1]!.data<long>().ToArray();
            if (!allowZero)
                for (int d = 0; d < shape.Length; d++)
                    if (shape[d] == 0)
                    {
                        if (d >= x.dim()) throw new GraphException($"node '{node.Name}' (Reshape): shape entry {d} is 0 but the input has rank {x.dim()}");
                        shape[d] = x.shape[d];
                    }
            return x.reshape(shape);
        });
    }
}
