using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Slice</c>: takes [start, end) with a step along some axes. Starts, ends, axes and steps are inputs from
/// opset 10 (attributes before). Negative indices count from the end; indices are clamped to the dimension
/// ([0, n] for positive steps, [-1, n-1] for negative ones), so INT64 bounds mean "to the end".
/// </summary>
public sealed class Slice : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Slice" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    /// <remarks>
    /// Slicing other axes passes the channels through. On the channel axis the bounds must be constants: with step 1
    /// the output carries the selected range of channels, and surgery moves the bounds to the range's survivors; with
    /// another step (a strided or reversed pick, on that axis alone) surgery replaces the Slice by a Gather of the
    /// survivors' positions, since they need not be evenly spaced any more.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        for (int i = 1; i < node.Inputs.Count; i++)
            if (flow.Input(i) != null) { flow.Block("Slice bounds carry channels"); return; }
        if (flow.Input(0) is not { } channels)
        {
            // Rows of a weight table [rows, C] (a learned position embedding cut to the sequence length): its
            // columns are C channels.
            if (flow.IsWeight(node.Inputs[0]) && flow.Shape(node.Inputs[0]) is { Length: 2 } table
                && SlicedAxes(node, flow) is { } sliced && !sliced.Contains(1))
                ChannelRules.WeightChannels(flow, node.Inputs[0], 1, table[1], 1);
            return;
        }
        var input = flow.Shape(node.Inputs[0])!;
        if (Bounds(node, input.Length, flow.Constant) is not { } bounds) { flow.Block("Slice bounds are computed at run time"); return; }
        int at = Array.IndexOf(bounds.Axes, (long)channels.Axis);
        if (at < 0) { flow.SetOutput(0, channels.Axis, channels.Labels); return; }
        if (bounds.Steps[at] != 1)
        {
            // A strided (or reversed) pick of channels; surgery turns it into a Gather of the survivors' positions.
            if (bounds.Axes.Length != 1) { flow.Block($"Slice with step {bounds.Steps[at]} on the channel axis and other axes"); return; }
            var positions = Positions(bounds.Starts[at], bounds.Ends[at], bounds.Steps[at], input[channels.Axis]);
            flow.SetOutput(0, channels.Axis, positions.Select(p => channels.Labels[p]).ToArray());
            return;
        }
        var (start, end) = Clamped(bounds.Starts[at], bounds.Ends[at], input[channels.Axis]);
        flow.SetOutput(0, channels.Axis, channels.Labels[(int)start..(int)end]);
    }

    /// <summary>The positions a Slice with a step other than 0 takes from a dimension of length n, in order (ONNX's clamping).</summary>
    static int[] Positions(long start, long end, long step, long n)
    {
        if (start < 0) start += n;
        if (end < 0) end += n;
        var positions = new List<int>();
        if (step > 0)
            for (long p = Math.Clamp(start, 0, n); p < Math.Clamp(end, 0, n); p += step) positions.Add((int)p);
        else
            for (long p = Math.Clamp(start, 0, n - 1); p > Math.Clamp(end, -1, n - 1); p += step) positions.Add((int)p);
        return positions.ToArray();
    }

    /// <inheritdoc />
    /// <remarks>The channel axis's bounds become the positions of the range's survivors in the narrower input.</remarks>
    public override Node Rewire(Node node, RewireContext context)
    {
        if (context.Survivors(node.Inputs[0]) is not { } survivors || context.OriginalShape(node.Inputs[0]) is not { } input) return node;
        if (Bounds(node, input.Length, context.Constant) is not { } bounds) return node;
        int at = Array.IndexOf(bounds.Axes, (long)survivors.Axis);
        if (at < 0) return node;
        if (bounds.Steps[at] != 1)
            return Gather.OfSurvivors(node, Positions(bounds.Starts[at], bounds.Ends[at], bounds.Steps[at], input[survivors.Axis]), survivors, context);
        var (start, end) = Clamped(bounds.Starts[at], bounds.Ends[at], input[survivors.Axis]);
        long[] starts = bounds.Starts.ToArray(), ends = bounds.Ends.ToArray();
        starts[at] = survivors.CountIn(0, start);
        ends[at] = starts[at] + survivors.CountIn(start, end);
        var attributes = new Dictionary<string, AttributeValue>(node.Attributes);
        var inputs = node.Inputs.ToList();
        if (node.Attributes.ContainsKey("starts"))
        {
            attributes["starts"] = AttributeValue.FromInts(starts);
            attributes["ends"] = AttributeValue.FromInts(ends);
        }
        else
        {
            inputs[1] = context.AddConstant($"{node.Name}.starts", tensor(starts));
            inputs[2] = context.AddConstant($"{node.Name}.ends", tensor(ends));
        }
        return new Node(node.Name, node.OpType, inputs, node.Outputs, attributes, node.Domain);
    }

    /// <summary>Starts, ends, axes (non-negative) and steps when they are all known constants.</summary>
    static (long[] Starts, long[] Ends, long[] Axes, long[] Steps)? Bounds(Node node, int rank, Func<string, Tensor?> constant)
    {
        long[]? Read(int index, string attribute) => node.Attributes.ContainsKey("starts")
            ? node.GetInts(attribute)?.ToArray()
            : node.InputOrNull(index) is { } name ? constant(name)?.to_type(ScalarType.Int64).data<long>().ToArray() : null;
        long[]? starts = Read(1, "starts"), ends = Read(2, "ends");
        if (starts == null || ends == null || starts.Length != ends.Length) return null;
        bool hasAxes = node.Attributes.ContainsKey("starts") ? node.Attributes.ContainsKey("axes") : node.InputOrNull(3) != null;
        long[]? axes = hasAxes ? Read(3, "axes") : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        long[]? steps = node.InputOrNull(4) != null && !node.Attributes.ContainsKey("starts") ? Read(4, "steps") : Enumerable.Repeat(1L, starts.Length).ToArray();
        if (axes == null || steps == null || axes.Length != starts.Length || steps.Length != starts.Length) return null;
        return (starts, ends, axes.Select(a => a < 0 ? a + rank : a).ToArray(), steps);
    }

    /// <summary>The axes a Slice of a rank-2 input cuts (known even when its bounds are computed), or null if unknown.</summary>
    static long[]? SlicedAxes(Node node, ChannelFlow flow)
    {
        long[]? axes;
        if (node.Attributes.ContainsKey("starts"))
            axes = node.GetInts("axes")?.ToArray() ?? Enumerable.Range(0, node.GetInts("starts")!.Count).Select(i => (long)i).ToArray();
        else if (node.InputOrNull(3) is { } name)
            axes = flow.Constant(name)?.to_type(ScalarType.Int64).data<long>().ToArray();
        else
            axes = flow.Shape(node.Inputs[1]) is { Length: 1 } starts ? Enumerable.Range(0, (int)starts[0]).Select(i => (long)i).ToArray() : null;
        return axes?.Select(a => a < 0 ? a + 2 : a).ToArray();
    }

    /// <summary>[start, end) of a step-1 slice of a dimension of length n, as the op clamps it.</summary>
    static (long Start, long End) Clamped(long start, long end, long n)
    {
        if (start < 0) start += n;
        if (end < 0) end += n;
        start = Math.Clamp(start, 0, n);
        end = Math.Clamp(end, 0, n);
        return (start, Math.Max(start, end));
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        Func<Tensor?[], long[]?> starts, ends, axes, steps;
        if (context.Opset < 10)
        {
            long[]? s = node.GetInts("starts")?.ToArray(), e = node.GetInts("ends")?.ToArray(), a = node.GetInts("axes")?.ToArray();
            starts = _ => s; ends = _ => e; axes = _ => a; steps = _ => null;
        }
        else
        {
            starts = OpArgs.IntsInput(node, context, 1);
            ends = OpArgs.IntsInput(node, context, 2);
            axes = OpArgs.IntsInput(node, context, 3);
            steps = OpArgs.IntsInput(node, context, 4);
        }
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] s = starts(inputs) ?? throw OpArgs.Error(node, "starts are missing");
            long[] e = ends(inputs) ?? throw OpArgs.Error(node, "ends are missing");
            long[] a = OpArgs.Axes(node, axes(inputs) ?? Enumerable.Range(0, s.Length).Select(i => (long)i), x.dim());
            long[] st = steps(inputs) ?? Enumerable.Repeat(1L, s.Length).ToArray();
            if (e.Length != s.Length || a.Length != s.Length || st.Length != s.Length)
                throw OpArgs.Error(node, $"starts, ends, axes and steps have different lengths ({s.Length}, {e.Length}, {a.Length}, {st.Length})");
            for (int i = 0; i < s.Length; i++)
                x = SliceAxis(node, x, a[i], s[i], e[i], st[i]);
            return x;
        });
    }

    static Tensor SliceAxis(Node node, Tensor x, long axis, long start, long end, long step)
    {
        if (step == 0) throw OpArgs.Error(node, $"step for axis {axis} is 0");
        long n = x.shape[axis];
        if (n == 0) return x;
        if (start < 0) start += n;
        if (end < 0) end += n;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, n);
            end = Math.Clamp(end, 0, n);
            return x.slice(axis, start, Math.Max(start, end), step);
        }
        start = Math.Clamp(start, 0, n - 1);
        end = Math.Clamp(end, -1, n - 1);
        long count = start > end ? (start - end - step - 1) / -step : 0;
        var indices = arange(count, ScalarType.Int64, x.device) * step + start;
        return x.index_select(axis, indices);
    }
}
