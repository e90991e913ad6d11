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
