using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Range</c>: start, start + delta, ... up to but excluding limit, max(ceil((limit - start) / delta), 0) values of the inputs' type.</summary>
public sealed class Range : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Range" };

    /// <inheritdoc />
    public override int MinOpset => 11;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context) => Single(inputs =>
    {
        Tensor start = inputs[0]!, limit = inputs[1]!, delta = inputs[2]!;
        ScalarType type = start.dtype;
        if (is_integral(type))
        {
            long s = start.to_type(ScalarType.Int64).item<long>(), l = limit.to_type(ScalarType.Int64).item<long>(), d = delta.to_type(ScalarType.Int64).item<long>();
            if (d == 0) throw OpArgs.Error(node, "delta is 0");
            long span = l - s;
            long count = d > 0 ? (span <= 0 ? 0 : (span + d - 1) / d) : (span >= 0 ? 0 : (span + d + 1) / d);
            Engine.MemoryGuard.CheckComputed(node, [count], ScalarType.Int64);
            return (arange(count, ScalarType.Int64) * d + s).to_type(type);
        }
        double fs = start.to_type(ScalarType.Float64).item<double>(), fl = limit.to_type(ScalarType.Float64).item<double>();
        double fd = delta.to_type(ScalarType.Float64).item<double>();
        if (fd == 0) throw OpArgs.Error(node, "delta is 0");
        double steps = Math.Max(Math.Ceiling((fl - fs) / fd), 0);
        if (!double.IsFinite(steps)) throw OpArgs.Error(node, $"start {fs}, limit {fl} and delta {fd} give no finite count");
        long n = steps >= long.MaxValue ? long.MaxValue : (long)steps;
        Engine.MemoryGuard.CheckComputed(node, [n], ScalarType.Float64);
        return (arange(n, ScalarType.Float64) * fd + fs).to_type(type);
    });
}
