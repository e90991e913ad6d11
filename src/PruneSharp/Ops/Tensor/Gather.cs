using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Gather</c> (picks whole slices along <c>axis</c>; the indices' shape replaces that dimension) and
/// <c>GatherElements</c> (picks single elements; the output has the indices' shape). Negative indices count from the end.
/// </summary>
public sealed class Gather : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Gather", "GatherElements" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    /// <remarks>
    /// A Gather of rows of a weight table [rows, C] (an embedding lookup, a relative-position-bias table) produces C
    /// channels on the output's last axis: the table's columns. A Gather along another axis than its data's channels
    /// passes them through (e.g. a transformer's class token, x[:, 0]); one along the channel axis with constant
    /// one-dimensional indices picks channels (surgery renumbers the picks of the survivors). Other Gathers across the
    /// channel axis, and GatherElements, block.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        var channels = flow.Input(0);
        if (flow.Input(1) != null) { flow.Block("Gather indices carry channels"); return; }
        if (node.OpType == "GatherElements")
        {
            if (channels != null) flow.Block("GatherElements picks single elements across the channels");
            return;
        }
        if (flow.Shape(node.Inputs[0]) is not { } data || flow.Shape(node.Inputs[1]) is not { } indices)
        {
            if (channels != null) flow.Block("Gather shapes unknown");
            return;
        }
        long axis = node.GetInt("axis", 0);
        if (axis < 0) axis += data.Length;
        if (channels != null)
        {
            if (channels.Axis != axis)
                flow.SetOutput(0, channels.Axis < axis ? channels.Axis : channels.Axis + indices.Length - 1, channels.Labels);
            else if (Picks(flow.Constant(node.Inputs[1]), data[axis]) is { } picks)
                flow.SetOutput(0, (int)axis, picks.Select(p => channels.Labels[p]).ToArray());
            else flow.Block("Gather picks channels with computed or scalar indices");
            return;
        }
        if (axis == 0 && data.Length == 2 && flow.IsWeight(node.Inputs[0]))
            ChannelRules.WeightChannels(flow, node.Inputs[0], 1, data[1], indices.Length);
    }

    /// <inheritdoc />
    /// <remarks>A Gather that picks channels by constant indices keeps the picks of surviving channels, renumbered.</remarks>
    public override Node Rewire(Node node, RewireContext context)
    {
        if (node.OpType != "Gather" || context.Survivors(node.Inputs[0]) is not { } survivors
            || context.OriginalShape(node.Inputs[0]) is not { } data) return node;
        long axis = node.GetInt("axis", 0);
        if (axis < 0) axis += data.Length;
        if (survivors.Axis != axis || Picks(context.Constant(node.Inputs[1]), data[axis]) is not { } picks) return node;
        return OfSurvivors(node, picks, survivors, context);
    }

    /// <summary>
    /// A Gather, in place of <paramref name="node"/> (same name, data and outputs), that takes along the channel axis
    /// the channels at <paramref name="picks"/> of the original input which survive, at their positions in the pruned one.
    /// </summary>
    internal static Node OfSurvivors(Node node, int[] picks, ValueSurvivors survivors, RewireContext context)
    {
        long[] kept = picks.Where(p => survivors.Kept[p]).Select(p => (long)survivors.CountIn(0, p)).ToArray();
        string indices = context.AddConstant($"{node.Name}.indices", tensor(kept));
        return new Node(node.Name, "Gather", new[] { node.Inputs[0], indices }, node.Outputs,
            new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(survivors.Axis) }, node.Domain);
    }

    /// <summary>Constant one-dimensional indices into a dimension of size <paramref name="n"/>, made non-negative; null otherwise.</summary>
    static int[]? Picks(Tensor? indices, long n)
    {
        if (indices is null || indices.dim() != 1) return null;
        long[] values = indices.to_type(ScalarType.Int64).data<long>().ToArray();
        if (values.Any(v => v < -n || v >= n)) return null;
        return values.Select(v => (int)(v < 0 ? v + n : v)).ToArray();
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long axis = node.GetInt("axis", 0);
        bool elements = node.OpType == "GatherElements";
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long a = OpArgs.Axis(node, axis, x.dim());
            Tensor indices = Indices(node, inputs[1]!, x.shape[a]);
            if (elements) return x.gather(a, indices);
            long[] shape = x.shape[..(int)a].Concat(indices.shape).Concat(x.shape[(int)(a + 1)..]).ToArray();
            return x.index_select(a, indices.flatten()).reshape(shape);
        });
    }

    /// <summary>Indices as int64 in [0, n), negative ones counted from the end; out-of-range ones are an error.</summary>
    internal static Tensor Indices(Node node, Tensor indices, long n)
    {
        Tensor i = indices.dtype == ScalarType.Int64 ? indices : indices.to_type(ScalarType.Int64);
        if (i.numel() == 0) return i;
        long low = i.min().item<long>(), high = i.max().item<long>();
        if (low < -n || high >= n)
            throw OpArgs.Error(node, $"index {(low < -n ? low : high)} is out of range for a dimension of size {n}");
        return low < 0 ? where(i < 0, i + n, i) : i;
    }
}
