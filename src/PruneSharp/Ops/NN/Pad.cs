using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Pad</c>: pads (or, with negative amounts, crops) each axis at its begin and end. Modes: constant,
/// reflect (mirror without repeating the edge), edge (repeat the edge) and wrap (opset 19, periodic).
/// From opset 11 the amounts and the constant are inputs, from opset 18 an optional <c>axes</c> input
/// limits them to some axes; before opset 11 they are the attributes <c>pads</c> and <c>value</c>.
/// </summary>
public sealed class Pad : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Pad" };

    /// <inheritdoc />
    /// <remarks>Channels pass through when the channel axis is not padded (its size is unchanged).</remarks>
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThroughIfSizeKept(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        string mode = node.GetString("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap") || (mode == "wrap" && context.Opset < 19))
            throw new GraphException($"node '{node.Name}' (Pad): mode '{mode}' is not supported at opset {context.Opset} (constant, reflect, edge; wrap from opset 19)");
        bool fromInputs = context.Opset >= 11;
        long[]? attributePads = fromInputs ? null : node.GetInts("pads")?.ToArray()
            ?? throw new GraphException($"node '{node.Name}' (Pad): attribute pads is required before opset 11");
        double attributeValue = node.GetFloat("value", 0f);
        long[]? constantPads = fromInputs ? Longs(context.Constant(node.InputOrNull(1) ?? "")) : attributePads;
        long[]? constantAxes = Longs(context.Constant(node.InputOrNull(3) ?? ""));
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] pads = constantPads ?? Longs(inputs.Length > 1 ? inputs[1] : null)
                ?? throw new GraphException($"node '{node.Name}' (Pad): the pads input is required");
            long[]? axes = constantAxes ?? Longs(inputs.Length > 3 ? inputs[3] : null);
            double value = fromInputs && inputs.Length > 2 && inputs[2] is { } v ? v.to_type(ScalarType.Float64).item<double>() : attributeValue;
            var (begin, end) = PerAxis(node, x.dim(), pads, axes);
            return mode == "constant" ? Constant(x, begin, end, value) : Indexed(x, begin, end, mode, node);
        });
    }

    static long[]? Longs(Tensor? t) => t?.to_type(ScalarType.Int64).cpu().data<long>().ToArray();

    /// <summary>Begin and end amounts for every axis of a rank-<paramref name="rank"/> input.</summary>
    static (long[] Begin, long[] End) PerAxis(Node node, long rank, long[] pads, long[]? axes)
    {
        long[] targets = axes ?? Enumerable.Range(0, (int)rank).Select(a => (long)a).ToArray();
        if (pads.Length != 2 * targets.Length)
            throw new GraphException($"node '{node.Name}' (Pad): {pads.Length} pads for {targets.Length} axes (rank {rank}); expected {2 * targets.Length}");
        var begin = new long[rank];
        var end = new long[rank];
        for (int i = 0; i < targets.Length; i++)
        {
            long axis = targets[i] < 0 ? targets[i] + rank : targets[i];
            if (axis < 0 || axis >= rank)
                throw new GraphException($"node '{node.Name}' (Pad): axis {targets[i]} is out of range for rank {rank}");
            begin[axis] = pads[i];
            end[axis] = pads[i + targets.Length];
        }
        return (begin, end);
    }

    static Tensor Constant(Tensor x, long[] begin, long[] end, double value)
    {
        if (begin.All(b => b == 0) && end.All(e => e == 0)) return x;
        int rank = begin.Length;
        var amounts = new long[2 * rank];
        for (int i = 0; i < rank; i++)
        {
            amounts[2 * i] = begin[rank - 1 - i];
            amounts[2 * i + 1] = end[rank - 1 - i];
        }
        return nn.functional.pad(x, amounts, TorchSharp.PaddingModes.Constant, value);
    }

    /// <summary>Reflect, edge and wrap padding as a gather along each padded axis (any rank, autograd intact).</summary>
    static Tensor Indexed(Tensor x, long[] begin, long[] end, string mode, Node node)
    {
        for (int axis = 0; axis < begin.Length; axis++)
        {
            if (begin[axis] == 0 && end[axis] == 0) continue;
            long cropBegin = Math.Max(0, -begin[axis]), cropEnd = Math.Max(0, -end[axis]);
            long size = x.shape[axis] - cropBegin - cropEnd;
            if (size < 1)
                throw new GraphException($"node '{node.Name}' (Pad): axis {axis} of size {x.shape[axis]} cannot be cropped by {cropBegin}+{cropEnd}");
            if (cropBegin > 0 || cropEnd > 0) x = x.narrow(axis, cropBegin, size);
            long before = Math.Max(0, begin[axis]), after = Math.Max(0, end[axis]);
            if (before == 0 && after == 0) continue;
            var index = new long[before + size + after];
            for (long i = 0; i < index.Length; i++) index[i] = Source(i - before, size, mode);
            x = x.index_select(axis, tensor(index, device: x.device));
        }
        return x;
    }

    static long Source(long j, long size, string mode)
    {
        switch (mode)
        {
            case "edge":
                return Math.Clamp(j, 0, size - 1);
            case "wrap":
                return ((j % size) + size) % size;
            default: // reflect: period 2(size-1), mirrored about the edges
                if (size == 1) return 0;
                long period = 2 * (size - 1);
                long k = ((j % period) + period) % period;
                return k < size ? k : period - k;
        }
    }
}
