using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Reporting;
using PruneSharp.Runs;

namespace PruneSharp.Pipelines;

/// <summary>A comparison's rows as runs: one completed run per row in a run store made afresh, and its HTML report.</summary>
static class ComparisonRecording
{
    /// <summary>
    /// Records every row of <paramref name="rows"/> as a completed run in <paramref name="store"/> (deleted first, so
    /// that it holds exactly this table), with the metrics, the per-layer sparsity and the hash of each row's model,
    /// and writes the report of that store to <paramref name="report"/>.
    /// </summary>
    public static void Write(ComparisonDescription d, IReadOnlyList<ComparisonRow> rows, string store, string report)
    {
        foreach (string file in new[] { store, store + "-wal", store + "-shm" }) File.Delete(file);
        using (var runs = RunStores.Open(store))
        {
            var dense = rows[0];
            foreach (var row in rows)
            {
                var variant = d.Variants.FirstOrDefault(v => v.Name == row.Name);
                var start = variant is null ? new RunStart { Kind = ComparisonPipeline.Kind, Method = ComparisonPipeline.DenseName }
                    : PipelineRecording.Describe(ComparisonPipeline.VariantPipeline(d, variant)) with { Kind = ComparisonPipeline.Kind };
                string model = variant is null ? ComparisonPipeline.DenseModel(d) : ComparisonPipeline.ModelFile(d, row.Name);
                using var recorder = RunRecorder.Begin(runs, start with
                {
                    Name = row.Label, Group = Path.GetFileName(Path.GetFullPath(d.Folder)), Model = d.Model, Dataset = d.Data.Source, Seed = d.Seed,
                    TargetSparsity = row.Smaller ? null : row.Sparsity, Parameters = new Dictionary<string, string> { ["cache_key"] = row.Key },
                });
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
                using var saved = OnnxFile.Load(model);
                recorder.Complete(new RunOutcome { Metrics = metrics, Layers = SparsityReport.Measure(saved).Layers, Artifacts = [RunArtifact.FromFile("model", model)] });
            }
            Directory.CreateDirectory(Path.GetDirectoryName(report)!);
            RunReport.Write(runs, report);
        }
    }
}
