using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// The Reduce* ops (Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp) over <c>axes</c> with
/// <c>keepdims</c> (default 1). Axes are an attribute until opset 12 for ReduceSum and 17 for the others, then an
/// optional input. Without axes every axis is reduced, unless <c>noop_with_empty_axes</c> is set: then the
/// reduction runs over no axis at all (the input for Sum/Mean/Max/Min/Prod, its square for SumSquare, and so on).
/// Integer inputs give integer outputs (Mean and L2 truncate).
/// </summary>
public sealed class Reduce : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[]
    {
        "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
        "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp",
    };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    /// <remarks>
    /// Channels pass through a reduction that leaves the channel axis alone (e.g. the spatial mean of a
    /// squeeze-and-excitation block, or a global pool written as a mean over H and W); without keepdims they move to
    /// the axis's new index, which needs the reduced axes to be known constants.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Node.GetInt("keepdims", 1) != 0) { ChannelRules.PassThroughIfSizeKept(flow); return; }
        if (flow.Input(0) is not { } channels) return;
        if (flow.Input(1) != null) { flow.Block("reduction axes carry channels"); return; }
        int rank = flow.Shape(flow.Node.Inputs[0])!.Length;
        long[]? axes = flow.Node.GetInts("axes")?.ToArray()
            ?? (flow.Node.InputOrNull(1) is { } name ? flow.Constant(name)?.data<long>().ToArray() : null);
        if (axes is not { Length: > 0 }) { flow.Block("reduction without keepdims over axes not known as constants"); return; }
        axes = axes.Select(a => a < 0 ? a + rank : a).ToArray();
        if (axes.Contains(channels.Axis)) { flow.Block("reduction over the channel axis"); return; }
        flow.SetOutput(0, channels.Axis - axes.Count(a => a < channels.Axis), channels.Labels);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool keep = node.GetInt("keepdims", 1) != 0;
        bool noop = node.GetInt("noop_with_empty_axes", 0) != 0;
        var axesOf = OpArgs.AxesArgument(node, context, inputSince: node.OpType == "ReduceSum" ? 13 : 18, inputIndex: 1);
        string op = node.OpType;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[]? given = axesOf(inputs);
            long[] axes;
            if (given is { Length: > 0 }) axes = OpArgs.Axes(node, given, x.dim()).Order().ToArray();
            else if (noop) axes = Array.Empty<long>();
            else axes = Enumerable.Range(0, (int)x.dim()).Select(d => (long)d).ToArray();
            return Run(op, x, axes, keep);
        });
    }

    static Tensor Run(string op, Tensor x, long[] axes, bool keep)
    {
        ScalarType type = x.dtype;
        bool integral = is_integral(type);
        long[] kept = x.shape.Select((n, d) => axes.Contains(d) ? 1 : n).ToArray();
        long[] output = keep ? kept : x.shape.Where((_, d) => !axes.Contains(d)).ToArray();
        bool empty = axes.Any(d => x.shape[d] == 0);
        Tensor Sum(Tensor t) => axes.Length == 0 ? t : t.sum(axes, keepdim: true, type: t.dtype);
        Tensor result = op switch
        {
            "ReduceSum" => Sum(x),
            "ReduceMean" => integral ? Mean(x.to_type(ScalarType.Float64), axes) : Mean(x, axes),
            "ReduceMax" => empty ? full(kept, EmptyResult(type, max: true), type) : axes.Length == 0 ? x : x.amax(axes, keepdim: true),
            "ReduceMin" => empty ? full(kept, EmptyResult(type, max: false), type) : axes.Length == 0 ? x : x.amin(axes, keepdim: true),
            "ReduceProd" => axes.Aggregate(x, (t, d) => t.prod(d, keepdim: true, type: t.dtype)),
            "ReduceL1" => Sum(x.abs()),
            "ReduceL2" => (integral ? Sum(x.to_type(ScalarType.Float64).square()) : Sum(x.square())).sqrt(),
            "ReduceSumSquare" => Sum(x.square()),
            "ReduceLogSum" => Sum(x).log(),
            _ => empty ? full(kept, float.NegativeInfinity, x.dtype) : LogSumExp(x, axes),
        };
        if (result.dtype != type) result = result.to_type(type);
        return result.reshape(output);
    }

    // The identity of max (the type's lowest value) or of min (its highest), what an empty reduction gives.
    static TorchSharp.Scalar EmptyResult(ScalarType type, bool max) => type switch
    {
        ScalarType.Int64 => max ? long.MinValue : long.MaxValue,
        ScalarType.Int32 => max ? int.MinValue : int.MaxValue,
        ScalarType.Int16 => max ? short.MinValue : short.MaxValue,
        ScalarType.Int8 => max ? sbyte.MinValue : sbyte.MaxValue,
        ScalarType.Byte => max ? byte.MinValue : byte.MaxValue,
        ScalarType.Bool => !max,
        _ => max ? double.NegativeInfinity : double.PositiveInfinity,
    };

    static Tensor Mean(Tensor x, long[] axes) => axes.Length == 0 ? x : x.mean(axes, keepdim: true);

    // log Σ exp(x) computed as m + log Σ exp(x - m) with m the (finite) maximum, so large inputs do not overflow.
    static Tensor LogSumExp(Tensor x, long[] axes)
    {
        if (axes.Length == 0) return x;
        Tensor m = x.amax(axes, keepdim: true).detach();
        m = where(m.isinf(), zeros_like(m), m);
        return (x - m).exp().sum(axes, keepdim: true).log() + m;
    }
}
