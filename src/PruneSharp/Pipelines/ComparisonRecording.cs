using System.Text.Json;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Reporting;
using PruneSharp.Runs;

namespace PruneSharp.Pipelines;

/// <summary>
/// A comparison's rows as runs: one completed run per row in the folder's run store, made afresh, and its HTML report;
/// and, when the comparison is recorded elsewhere (<c>run --store</c>), the same rows there under the caller's run.
/// </summary>
static class ComparisonRecording
{
    /// <summary>
    /// Records every row of <paramref name="rows"/> as a completed run in <paramref name="store"/> (deleted first, so
    /// that it holds exactly this table; kind <see cref="ComparisonPipeline.Kind"/>, named by the row's label, grouped
    /// by the folder's name, the cache key as a parameter) and writes the report of that store to <paramref name="report"/>.
    /// </summary>
    public static void Write(ComparisonDescription d, IReadOnlyList<ComparisonRow> rows, string store, string report)
    {
        foreach (string file in new[] { store, store + "-wal", store + "-shm" }) File.Delete(file);
        using (var runs = RunStores.Open(store))
        {
            foreach (var row in rows)
            {
                var start = Start(new RunStart { Kind = ComparisonPipeline.Kind }, d, row.Name, row.Label, row.Smaller ? null : row.Sparsity);
                using var recorder = RunRecorder.Begin(runs, start with
                {
                    Name = row.Label, Group = Path.GetFileName(Path.GetFullPath(d.Folder)),
                    Parameters = new Dictionary<string, string>(start.Parameters) { ["cache_key"] = row.Key },
                });
                recorder.Complete(Outcome(d, row, rows[0]));
            }
            Directory.CreateDirectory(Path.GetDirectoryName(report)!);
            RunReport.Write(runs, report);
        }
    }

    /// <summary>
    /// The runs of the variants' rows of <paramref name="rows"/>, each from <paramref name="start"/> (kind, name,
    /// group, recipe, command kept; see <see cref="Start"/>) with its outcome, for the recording's store to record
    /// in the transaction that completes the dense model's row: the recording's own run, which
    /// <see cref="ComparisonPipeline.Run"/> began before the first step.
    /// </summary>
    public static IReadOnlyList<(RunStart Start, RunOutcome Outcome)> Variants(RunStart start, ComparisonDescription d, IReadOnlyList<ComparisonRow> rows) =>
        rows.Skip(1).Select(row => (Start(start, d, row.Name, row.Label, row.Smaller ? null : row.Sparsity), Outcome(d, row, rows[0]))).ToList();

    /// <summary>
    /// The run of the row <paramref name="name"/> from <paramref name="start"/>: the variant's method as a recipe
    /// run's (<see cref="ComparisonPipeline.DenseName"/> for the dense model, a training run's <c>at-init:METHOD</c> for an
    /// at-init variant), the comparison's model, data and seed,
    /// the sparsity, the row's name and label as the parameters <c>variant</c> and <c>label</c>, and, unless
    /// <paramref name="start"/> holds a recipe, the variant's pipeline (or training) as JSON.
    /// </summary>
    public static RunStart Start(RunStart start, ComparisonDescription d, string name, string label, double? sparsity)
    {
        var variant = d.Variants.FirstOrDefault(v => v.Name == name);
        var training = variant is null ? null : ComparisonPipeline.AtInitTraining(d, variant);
        var described = variant is null || training is not null ? null : PipelineRecording.Describe(ComparisonPipeline.VariantPipeline(d, variant));
        return start with
        {
            Method = training is not null ? TrainingPipeline.Method(training) : described?.Method ?? ComparisonPipeline.DenseName,
            Recipe = start.Recipe ?? (training is not null ? JsonSerializer.Serialize(training) : described?.Recipe),
            Model = d.Model, Dataset = d.Data.Source, Seed = d.Seed, TargetSparsity = sparsity,
            Parameters = new Dictionary<string, string>(start.Parameters) { ["variant"] = name, ["label"] = label },
        };
    }

    /// <summary>The row's final metrics (with the dense model's parameters and accuracy beside them), the per-layer sparsity and the hash of its model.</summary>
    public static RunOutcome Outcome(ComparisonDescription d, ComparisonRow row, ComparisonRow dense)
    {
        var metrics = new Dictionary<string, double>
        {
            [MetricNames.Sparsity] = row.Sparsity, [MetricNames.Parameters] = row.Parameters, [MetricNames.DenseParameters] = dense.Parameters,
            [MetricNames.NonZeros] = row.NonZeros, [MetricNames.Macs] = row.DenseMacs, [MetricNames.EffectiveMacs] = row.EffectiveMacs,
        };
        if (row.Accuracy is { } accuracy) metrics[MetricNames.Accuracy] = accuracy;
        if (dense.Accuracy is { } denseAccuracy) metrics[MetricNames.DenseAccuracy] = denseAccuracy;
        if (row.LatencyMs is { } latency) metrics[MetricNames.LatencyMs] = latency;
        if (row.DenseLatencyMs is { } denseLatency) metrics[MetricNames.DenseLatencyMs] = denseLatency;
        if (d.Latency is { } timing) metrics[PipelineRecording.LatencyThreads] = timing.Threads;
        string model = row.Name == ComparisonPipeline.DenseName ? ComparisonPipeline.DenseModel(d) : ComparisonPipeline.ModelFile(d, row.Name);
        using var saved = OnnxFile.Load(model);
        return new RunOutcome { Metrics = metrics, Layers = SparsityReport.Measure(saved).Layers, Artifacts = [RunArtifact.FromFile("model", model)] };
    }
}
