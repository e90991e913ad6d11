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
    /// Reshape keeps the axes before the channel axis (as one or several axes) and then either merges the channel axis
    /// with later ones — channel c covers a block of positions, as in flattening [N, C, H, W] → [N, C·H·W], joining
    /// attention heads [B, T, H, d] → [B, T, H·d], or the end of a channel shuffle [N, C/g, g, H, W] → [N, C, H, W] —
    /// or splits it in two. Splitting the channels of a feature map ([N, C, H, W] → [N, g, C/g, H, W], the start of a
    /// channel shuffle) ties the g blocks position by position, so that every block loses the same positions and the
    /// split stays valid, and the channels continue on the inner axis; splitting a last (feature) axis into [U, C/U]
    /// makes runs of C/U channels units removed whole, as in splitting a projection into attention heads
    /// [B, T, C] → [B, T, H, d]. Other reshapes of channels block, and so does a target computed at run time (surgery
    /// could not update it).
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        if (flow.Input(1) != null) { flow.Block("Reshape target carries channels"); return; }
        if (flow.Input(0) is not { } channels) return;
        var input = flow.Shape(node.Inputs[0])!;
        var output = flow.Shape(node.Outputs[0])!;
        if (flow.Constant(node.Inputs[1]) is null) { flow.Block("Reshape target is computed at run time, so surgery could not update it (fold the shape arithmetic first: ShapeFolding)"); return; }
        if (channels.Axis == 1 && input.Length >= 3 && SplitInTwo(input, output) is long blocks)
        {
            int width = channels.Labels.Length / (int)blocks;
            var first = channels.Labels[..width];
            for (int b = 1; b < blocks; b++) flow.Tie(first, channels.Labels[(b * width)..((b + 1) * width)]);
            flow.SetOutput(0, 2, first);
            return;
        }

        // The output axis where the channels start: the last one with the same number of elements before it.
        long before = Product(input, 0, channels.Axis), after = Product(input, channels.Axis + 1, input.Length);
        int axis = -1;
        for (int b = 0; b < output.Length; b++)
            if (Product(output, 0, b) == before) axis = b;
        if (axis < 0) { flow.Block("Reshape mixes the channel axis with the axes before it"); return; }

        long count = channels.Labels.Length, size = output[axis];
        ChannelLabel[]? labels = null;
        if (count == 0) return;
        if (size % count == 0 && after % (size / count) == 0) labels = ChannelRules.Blocks(channels.Labels, size / count);
        else if (size > 0 && count % size == 0) labels = flow.Units(channels.Labels, (int)(count / size));
        if (labels == null) flow.Block($"Reshape cuts the {count} channels into parts of {size} that are not whole units");
        else flow.SetOutput(0, axis, labels);
    }

    /// <summary>g when <paramref name="output"/> is <paramref name="input"/> with axis 1 split into [g, C/g] and the rest kept.</summary>
    static long? SplitInTwo(long[] input, long[] output)
    {
        if (output.Length != input.Length + 1 || output[1] * output[2] != input[1] || output[1] < 2) return null;
        for (int d = 2; d < input.Length; d++) if (input[d] != output[d + 1]) return null;
        return output[1];
    }

    static long Product(long[] shape, int from, int to)
    {
        long product = 1;
        for (int d = from; d < to; d++) product *= shape[d];
        return product;
    }

    /// <inheritdoc />
    /// <remarks>Target entries that spell out a size the removal changed (a feature count, a number of heads) get the new size.</remarks>
    public override Node Rewire(Node node, RewireContext context)
    {
        if (context.Constant(node.Inputs[1]) is not { } target || context.OriginalShape(node.Outputs[0]) is not { } original
            || context.PrunedShape(node.Outputs[0]) is not { } pruned || original.SequenceEqual(pruned))
            return node;
        long[] entries = target.data<long>().ToArray();
        if (entries.Length != original.Length)
            throw new GraphException($"node '{node.Name}' (Reshape): target has {entries.Length} entries, the output {original.Length} dimensions");
        var input = context.PrunedShape(node.Inputs[0]);
        for (int d = 0; d < entries.Length; d++)
        {
            if (pruned[d] == original[d]) continue;
            if (entries[d] > 0) entries[d] = pruned[d];
            else if (entries[d] == 0 && (input is null || d >= input.Length || input[d] != pruned[d]))
                throw new GraphException($"node '{node.Name}' (Reshape): target entry {d} copies an input dimension that the removal does not shrink alike");
        }
        string name = context.AddConstant($"{node.Name}.pruned_shape", tensor(entries));
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
