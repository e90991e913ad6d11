using System.Text.Json;
using PruneSharp.Metrics;
using PruneSharp.Runs;
using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>
/// Where a pipeline records its run: <see cref="Pipeline.Run"/> begins the run in <see cref="Store"/> before loading
/// anything, records each training epoch's end and each stage's result as step metrics, and ends the run completed
/// with the final metrics, the per-layer sparsity and the file written, or failed with the error.
/// </summary>
/// <param name="Store">The run store (the caller keeps owning it).</param>
/// <param name="Start">The run's row; see <see cref="Describe"/> for the one a description gives.</param>
public sealed record PipelineRecording(IRunStore Store, RunStart Start)
{
    /// <summary>The kind of run a pipeline records by default (sweeps look for it).</summary>
    public const string Kind = "recipe";

    /// <summary>
    /// The run's row that <paramref name="d"/> gives: its stages as the method, model, data, seed, the last stage's
    /// sparsity, and the description itself as JSON in the recipe column (a recipe run puts its file's text there instead).
    /// </summary>
    public static RunStart Describe(PipelineDescription d) => new()
    {
        Kind = Kind,
        Recipe = JsonSerializer.Serialize(d),
        Method = string.Join("+", d.Stages.Select(s => s.Structure is { } structure ? $"{structure}:{s.Method}"
            : $"{s.Method}/{s.Scope}/{s.Granularity}" + (s.Schedule == "oneshot" ? "" : $"/{s.Schedule}"))),
        Model = d.Model,
        Dataset = d.Data?.Source,
        Seed = d.Seed,
        TargetSparsity = d.Stages.Count == 0 ? null : d.Stages[^1].Sparsity ?? d.Stages[^1].Ratio,
    };

    /// <summary>
    /// The final metrics of <paramref name="result"/>: quality (accuracy or perplexity) before and after, sparsity of the weights the last
    /// stage could prune (after a structured stage: the fraction of the dense model's parameters removed), parameters
    /// and non-zeros of the whole model, MACs and latency.
    /// </summary>
    public static RunOutcome Outcome(PipelineResult result)
    {
        var last = result.Stages[^1];
        var all = last.Weights.Layers;
        var pruned = last.Unstructured is { } u ? all.Where(l => u.Outcome.Prunable.Contains(l.Name)).ToList() : all;
        var first = result.Stages[0];
        long dense = first.Channels?.DenseParameters ?? first.Blocks?.DenseParameters ?? first.Weights.Parameters;
        double kept = dense == 0 ? 1 : (double)last.Weights.Parameters / dense;
        bool structured = last.Unstructured is null;
        return RunMetrics.Outcome([
            .. RunMetrics.Quality(result.After, result.Before, result.PerplexityAfter, result.PerplexityBefore), .. RunMetrics.Size(pruned),
            new(MetricNames.Sparsity, structured ? 1 - kept : null), new(MetricNames.Density, structured ? kept : null),
            new(MetricNames.Parameters, last.Weights.Parameters), new(MetricNames.DenseParameters, dense), new(MetricNames.NonZeros, last.Weights.NonZeros),
            new(MetricNames.Macs, result.Stages[0].DenseMacs), new(MetricNames.EffectiveMacs, last.Macs),
            new(MetricNames.LatencyMs, result.Latency?.Median * 1e3), new(MetricNames.DenseLatencyMs, result.Latency?.DenseMedian * 1e3),
            new(LatencyThreads, result.Latency?.Threads),
        ], all, result.Output is null ? [] : [("model", result.Output)]);
    }

    /// <summary>
    /// Runs <paramref name="work"/> as a recorded run when <paramref name="recording"/> is given (begun before,
    /// completed with <paramref name="outcome"/> of its result, or failed with the error or "interrupted"); as it is otherwise.
    /// The runs <paramref name="alongside"/> gives for the result are recorded completed in the same transaction as the
    /// run's completion, so that a reader never sees some of them without the others.
    /// </summary>
    internal static T Record<T>(PipelineRecording? recording, Func<RunRecorder?, T> work, Func<T, RunOutcome> outcome,
        Func<T, IReadOnlyList<(RunStart Start, RunOutcome Outcome)>>? alongside = null)
    {
        if (recording is null) return work(null);
        using var recorder = RunRecorder.Begin(recording.Store, recording.Start);
        try
        {
            var result = work(recorder);
            if (alongside is null) recorder.Complete(outcome(result));
            else recorder.Complete(outcome(result), alongside(result));
            return result;
        }
        catch (OperationCanceledException)
        {
            recorder.Fail("interrupted");
            throw;
        }
        catch (Exception e) when (e is not RunStoreException)
        {
            recorder.Fail(e.Message.ReplaceLineEndings(" "));
            throw;
        }
    }

    /// <summary>The metric holding the threads the latency was measured with.</summary>
    public const string LatencyThreads = "latency_threads";

    /// <summary>A stage's result as step metrics (the step is the stage's number, from 1).</summary>
    internal static Dictionary<string, double> Step(StageResult s)
    {
        var metrics = new Dictionary<string, double>
        {
            ["stage_sparsity"] = s.Weights.Sparsity,
            ["stage_parameters"] = s.Weights.Parameters,
            ["stage_effective_macs"] = s.Macs,
        };
        if (s.After is { } after) metrics["stage_accuracy"] = after.Top1;
        if (s.AfterPruning is { } pruned) metrics["stage_accuracy_pruned"] = pruned.Top1;
        if (s.PerplexityAfter is { } perplexity) metrics["stage_perplexity"] = perplexity.Perplexity;
        metrics["stage_seconds"] = s.Elapsed.TotalSeconds;
        return metrics;
    }

    /// <summary>Progress that also records each epoch's end as step metrics prefixed with the training run's label.</summary>
    internal static PipelineProgress Recording(PipelineProgress progress, RunRecorder recorder) => progress with
    {
        Training = label => new EpochSteps(progress.Training?.Invoke(label), recorder, label),
    };

    sealed class EpochSteps(IProgress<TrainingProgress>? inner, RunRecorder recorder, string label) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            inner?.Report(p);
            if (p.Position.Batch >= p.BatchesPerEpoch) recorder.Step(p.Position.Step, RunMetrics.Epoch(label, p));
        }
    }
}
