namespace PruneSharp.Runs;

/// <summary>One named value of two runs side by side (null where a run lacks it).</summary>
/// <param name="Name">The parameter, environment entry, metric or layer.</param>
/// <param name="First">The first run's value.</param>
/// <param name="Second">The second run's value.</param>
public sealed record ComparedValue<T>(string Name, T? First, T? Second);

/// <summary>
/// What differs between two runs: the options and environment entries whose values differ, every final metric of
/// either run (with the difference second − first where both have it), and the layers whose sparsity differs.
/// </summary>
/// <param name="First">The first run.</param>
/// <param name="Second">The second run.</param>
/// <param name="Parameters">Options that differ.</param>
/// <param name="Environment">Environment entries that differ.</param>
/// <param name="Metrics">All final metrics of both.</param>
/// <param name="Layers">Per-layer sparsity where it differs (or the layer is in one run only).</param>
public sealed record RunComparison(
    RunSummary First,
    RunSummary Second,
    IReadOnlyList<ComparedValue<string>> Parameters,
    IReadOnlyList<ComparedValue<string>> Environment,
    IReadOnlyList<ComparedValue<double?>> Metrics,
    IReadOnlyList<ComparedValue<double?>> Layers)
{
    /// <summary>Compares <paramref name="first"/> with <paramref name="second"/>.</summary>
    public static RunComparison Of(RunRecord first, RunRecord second)
    {
        static List<ComparedValue<string>> Differing(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
            a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
                .Select(k => new ComparedValue<string>(k, a.GetValueOrDefault(k), b.GetValueOrDefault(k)))
                .Where(v => v.First != v.Second).ToList();
        static double? Value(IReadOnlyDictionary<string, double> values, string key) => values.TryGetValue(key, out double v) ? v : null;
        var metrics = first.Summary.Metrics.Keys.Union(second.Summary.Metrics.Keys).Order(StringComparer.Ordinal)
            .Select(k => new ComparedValue<double?>(k, Value(first.Summary.Metrics, k), Value(second.Summary.Metrics, k))).ToList();
        var a = first.Layers.ToDictionary(l => l.Name, l => l.Sparsity);
        var b = second.Layers.ToDictionary(l => l.Name, l => l.Sparsity);
        var layers = first.Layers.Select(l => l.Name).Concat(second.Layers.Select(l => l.Name)).Distinct()
            .Select(n => new ComparedValue<double?>(n, Value(a, n), Value(b, n)))
            .Where(v => v.First != v.Second).ToList();
        return new RunComparison(first.Summary, second.Summary, Differing(first.Parameters, second.Parameters),
            Differing(first.Environment.ToValues(), second.Environment.ToValues()), metrics, layers);
    }
}
