namespace PruneSharp.Ops;

/// <summary>Channel rules shared by several op families.</summary>
public static class ChannelRules
{
    /// <summary>Ops that keep the layout of input 0 (activations, pooling, normalisation of one sample): output 0 carries input 0's channels.</summary>
    public static void PassThrough(ChannelFlow flow)
    {
        for (int i = 1; i < flow.Node.Inputs.Count; i++)
            if (flow.Input(i) != null) { flow.Block($"{flow.Node.OpType} input {i} carries channels"); return; }
        if (flow.Input(0) is { } channels)
            for (int k = 0; k < flow.Node.Outputs.Count; k++)
                if (flow.Shape(flow.Node.Outputs[k]) is { } shape && shape.Length > channels.Axis && shape[channels.Axis] == channels.Labels.Length)
                    flow.SetOutput(k, channels.Axis, channels.Labels);
    }

    /// <summary>
    /// Element-wise ops with NumPy broadcasting over <paramref name="inputs"/> (all inputs if null): channels of
    /// different inputs that meet on one output axis are tied; a weight spanning that axis is sliced with them; a
    /// computed value spanning it without channels blocks.
    /// </summary>
    public static void Elementwise(ChannelFlow flow, IReadOnlyList<int>? inputs = null)
    {
        var node = flow.Node;
        inputs ??= Enumerable.Range(0, node.Inputs.Count).ToList();
        var outputShape = flow.Shape(node.Outputs[0]);
        if (outputShape == null) { Block(flow, "output shape unknown"); return; }
        int rank = outputShape.Length;

        ChannelLabel[]? labels = null;
        int outputAxis = -1;
        foreach (int i in inputs)
        {
            if (flow.Input(i) is not { } channels) continue;
            var shape = flow.Shape(node.Inputs[i])!;
            int axis = channels.Axis + rank - shape.Length;
            if (labels == null) { labels = channels.Labels; outputAxis = axis; }
            else if (axis != outputAxis) { flow.Block($"{node.OpType} combines channels on different axes"); return; }
            else flow.Tie(labels, channels.Labels);
        }
        if (labels == null) return;

        foreach (int i in inputs)
        {
            string name = node.InputOrNull(i) ?? "";
            if (name.Length == 0 || flow.Input(i) != null) continue;
            var shape = flow.Shape(name);
            if (shape == null) { flow.Block($"shape of '{name}' unknown"); return; }
            int axis = outputAxis - (rank - shape.Length);
            if (axis < 0 || shape[axis] == 1) continue;
            if (shape[axis] != labels.Length) { flow.Block($"'{name}' does not match the channel count"); return; }
            if (flow.IsWeight(name)) flow.Member(name, axis, labels, WeightRole.PerChannel);
            else { flow.Block($"computed input '{name}' spans the channels without carrying them"); return; }
        }
        if (outputShape[outputAxis] == labels.Length) flow.SetOutput(0, outputAxis, labels);
        else flow.Block($"{node.OpType} output does not keep the channel axis");
    }

    /// <summary>Like <see cref="PassThrough"/>, but blocks when the op changes the size of the channel axis (padding or reducing it).</summary>
    public static void PassThroughIfSizeKept(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        var output = flow.Shape(flow.Node.Outputs[0]);
        if (output == null || output.Length <= channels.Axis || output[channels.Axis] != channels.Labels.Length)
            flow.Block($"{flow.Node.OpType} changes the channel axis");
        else PassThrough(flow);
    }

    /// <summary>
    /// The output of this node carries, on <paramref name="outputAxis"/>, a new space of channels: the positions along
    /// <paramref name="axis"/> of <paramref name="weight"/>, which produce them (an embedding table's columns, a class
    /// token's entries).
    /// </summary>
    public static void WeightChannels(ChannelFlow flow, string weight, int axis, long count, int outputAxis)
    {
        var channels = flow.NewSpace((int)count);
        flow.Member(weight, axis, channels, WeightRole.Produces);
        flow.SetOutput(0, outputAxis, channels);
    }

    /// <summary>Each label repeated <paramref name="block"/> times: channel c of [C, H, W] covers positions c·H·W … (c+1)·H·W−1 after flattening.</summary>
    public static ChannelLabel[] Blocks(ChannelLabel[] labels, long block)
    {
        var result = new ChannelLabel[labels.Length * block];
        for (int c = 0; c < labels.Length; c++)
            Array.Fill(result, labels[c], (int)(c * block), (int)block);
        return result;
    }

    static void Block(ChannelFlow flow, string why)
    {
        for (int i = 0; i < flow.Node.Inputs.Count; i++)
            if (flow.Input(i) != null) { flow.Block(why); return; }
    }
}
