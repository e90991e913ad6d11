using PruneSharp.Metrics;
using PruneSharp.Training;

namespace PruneSharp.Runs;

/// <summary>The metrics most runs record, by <see cref="MetricNames"/>: quality before and after, size, and each training epoch's end.</summary>
public static class RunMetrics
{
    /// <summary>A classifier's evaluation before and after, and a language model's perplexity (absent values are null).</summary>
    public static IEnumerable<KeyValuePair<string, double?>> Quality(ClassificationMetrics? after, ClassificationMetrics? before = null,
        PerplexityResult? perplexityAfter = null, PerplexityResult? perplexityBefore = null) =>
    [
        new(MetricNames.Accuracy, after?.Top1),
        new(MetricNames.Loss, after?.Loss),
        new(MetricNames.DenseAccuracy, before?.Top1),
        new(MetricNames.Perplexity, perplexityAfter?.Perplexity),
        new(MetricNames.DensePerplexity, perplexityBefore?.Perplexity),
    ];

    /// <summary>Parameters and non-zeros of <paramref name="layers"/>, and their sparsity and density.</summary>
    public static IEnumerable<KeyValuePair<string, double?>> Size(IReadOnlyList<ParameterSparsity> layers)
    {
        var report = new SparsityReport(layers);
        return
        [
            new(MetricNames.Parameters, report.Parameters),
            new(MetricNames.NonZeros, report.NonZeros),
            new(MetricNames.Sparsity, report.Sparsity),
            new(MetricNames.Density, report.RemainingFraction),
        ];
    }

    /// <summary>
    /// An outcome of <paramref name="metrics"/> (null values left out; a name given twice keeps its later value), the
    /// per-layer sparsity, and the files that exist among <paramref name="files"/> under their roles (hashed now).
    /// </summary>
    public static RunOutcome Outcome(IEnumerable<KeyValuePair<string, double?>> metrics, IReadOnlyList<ParameterSparsity>? layers, params (string Role, string Path)[] files) => new()
    {
        Metrics = metrics.Where(m => m.Value is not null).GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Last().Value!.Value),
        Layers = layers ?? [],
        Artifacts = files.Where(f => File.Exists(f.Path)).Select(f => RunArtifact.FromFile(f.Role, f.Path)).ToList(),
    };

    /// <summary>
    /// The end of a training epoch as step metrics prefixed with <paramref name="phase"/> (<c>train</c>,
    /// <c>fine-tune</c>; dashes become underscores): loss, learning rate, throughput, epoch and accuracy if measured.
    /// </summary>
    public static Dictionary<string, double> Epoch(string phase, TrainingProgress progress)
    {
        string prefix = phase.Replace('-', '_');
        var metrics = new Dictionary<string, double>
        {
            [$"{prefix}_loss"] = progress.Loss,
            [$"{prefix}_learning_rate"] = progress.LearningRate,
            [$"{prefix}_samples_per_s"] = progress.SamplesPerSecond,
            [$"{prefix}_epoch"] = progress.Position.Epoch + 1,
        };
        if (progress.Accuracy is { } accuracy) metrics[$"{prefix}_accuracy"] = accuracy;
        return metrics;
    }
}
