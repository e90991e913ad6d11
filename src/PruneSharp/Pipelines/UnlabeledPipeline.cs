using System.Diagnostics;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Pruning.Structured;
using PruneSharp.Recovery;
using static TorchSharp.torch;

namespace PruneSharp.Pipelines;

/// <summary>
/// A pipeline whose data holds unlabeled inputs (<see cref="DataKind.Unlabeled"/>: .npy/.npz arrays, an encoder's
/// sentences tokenised with a WordPiece vocabulary, a folder of images without classes), nothing scored against
/// labels. The examples (the first <see cref="DataDescription.TrainExamples"/>, if given), with the inputs they lack synthesised as <see cref="PipelineDescription.Inputs"/> says, are
/// what channel and head structure is traced on, what <see cref="StageDescription.Calibration"/> refits on, what apoz
/// (and for unstructured stages wanda and entropy) observe, what residual blocks are scored on (the first 64), and what
/// the only recovery without labels, distillation from the dense model, matches it on.
/// </summary>
static class UnlabeledPipeline
{
    /// <summary>Examples per batch that the apoz channel criterion observes (8 batches).</summary>
    const int ObservedBatchSize = 64;

    /// <summary>The checks of a pipeline on unlabeled inputs that need neither the inputs nor the model.</summary>
    internal static void Validate(PipelineDescription d, ProblemList problems)
    {
        var data = d.Data!;
        bool text = File.Exists(data.Source) && !data.Source.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) && !data.Source.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);
        foreach (var (key, set) in new[] { ("test_examples", data.TestExamples is not null), ("augment", data.Augment is not null) })
            problems.Require($"data.{key}", !set, $"data.{key} applies to labelled image data; data.source '{data.Source}' holds unlabeled inputs");
        problems.Require("data.held_out", data.HeldOut is null, "data.held_out applies to a language model's text; sentences for an encoder are all distilled on");
        problems.Require("data.context", text || data.Context is null, $"data.context is the longest sentence of a text file; data.source '{data.Source}' is not one");
        LanguageModelPipeline.CheckText(data, problems);
        var r = d.Recovery;
        problems.Require("recovery.kind", !(r.Kind == "finetune" && r.Epochs > 0),
            $"data.source '{data.Source}' has no labels, so fine-tuning cannot use them: give recovery.kind distill (the dense model teaches) or recovery.kind none");
        for (int i = 0; i < d.Stages.Count; i++)
        {
            var s = d.Stages[i];
            string at = $"stages[{i}]";
            // Names that do not parse are Pipeline.Validate's to report, with the nearest valid ones.
            if (s.Structure is null)
            {
                if (Pipeline.Parses(() => PruningParts.Criterion(s.Method, d.Seed)) is { } criterion)
                    problems.Check($"{at}.method", () => UnlabeledPruning.Check(criterion, data.Source, $"{at}.method"));
                problems.Require($"{at}.schedule", s.Schedule == "oneshot" || Pipeline.Parses(() => (object)PruningParts.Rounds(s.Schedule)) is null,
                    $"{at}.schedule {s.Schedule}: data.source '{data.Source}' holds unlabeled inputs, so one-shot pruning only (the iterative and gradual schedules fine-tune on labels); recover with distillation");
            }
            else if (s.Structure != "block")
                problems.Require($"{at}.method", Pipeline.Parses(() => StructuredPruning.Importance(s, d.Seed, at)) is not (TaylorImportance or FisherImportance),
                    $"{at}.method {s.Method} scores with the loss's gradients, which need labels; data.source '{data.Source}' holds unlabeled inputs: use apoz, l1, l2 or fpgm");
        }
    }

    /// <summary>Runs <paramref name="d"/> (validated; its data unlabeled inputs).</summary>
    internal static PipelineResult Run(PipelineDescription d, PipelineProgress progress, Action<int, StageResult>? stageDone, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var data = d.Data!;
        bool structured = d.Stages.Any(s => s.Structure is not null);
        var model = Sources.LoadModel(d.Model, null, d.Seed, structured, "model");
        string? dense = null;
        try
        {
            // The teacher: a second, never pruned copy (unstructured stages zero the student's weights in place).
            using var teacher = Sources.LoadModel(d.Model, null, d.Seed, structured, "model");
            var fed = Pipeline.Input(d.Model, data, d.Inputs, d.Export, model);
            // The dense model as the pruned one will be written, timed beside it.
            if (d.Latency is not null) Pipeline.Write(model, fed, d.Export!, dense = Pipeline.DenseCopy());
            var examples = Sources.LoadExamples(data.Source, model, data.Tokenizer ?? DataDescription.DefaultTokenizer, data.Context ?? DataDescription.DefaultContext, fed, "data.source");
            IInputSource feed = new GraphFeed(model.Graph, examples, Sources.Synthesis(d.Inputs), d.Seed);
            if (data.TrainExamples is { } n) feed = new UnlabeledPruning.FirstInputs(feed, Math.Min(n, feed.Count));
            var fineTune = Pipeline.FineTune(d.Recovery, d.Seed, feed.Count);
            var distillation = Pipeline.DistillationSettings(d.Recovery);
            var sample = feed.Inputs(new[] { 0 });

            var results = new List<StageResult>();
            for (int i = 0; i < d.Stages.Count; i++)
            {
                var s = d.Stages[i];
                string at = $"stages[{i}]";
                var stageClock = Stopwatch.StartNew();
                var distillations = new List<DistillationResult>();
                DistillationResult? distilled = null;
                void Distill(GraphModule student)
                {
                    distilled = Distillation.Run(teacher, student, feed, distillation, fineTune, null, progress.For("distill"), cancellation);
                    if (distilled.Training.Cancelled) throw new OperationCanceledException();
                    distillations.Add(distilled);
                }
                Action<GraphModule>? recover = fineTune.Epochs > 0 ? Distill : null;
                StageResult result;
                if (s.Structure is null)
                {
                    var (stage, keep) = UnstructuredPruning.Stage(s, at, model, d.Seed);
                    var outcome = UnlabeledPruning.Run(model, teacher, stage, feed, fineTune, distillation, progress, cancellation);
                    var pruned = outcome.Pruning;
                    result = new StageResult(s, null, null, pruned.Sparsity, pruned.DenseMacs.DenseMacs, pruned.PrunedMacs.EffectiveMacs,
                        new UnstructuredStageResult(stage.Sparsity, keep, pruned), null, outcome.Distillation) { Unlabeled = outcome };
                }
                else if (s.Structure == "block")
                {
                    var (removal, blocks) = StructuredPruning.Blocks(model, s, d.Seed, First(feed, StructuredPruning.ScoringExamples), at);
                    model.Dispose();
                    model = removal.Model;
                    recover?.Invoke(model);
                    result = new StageResult(s, null, null, SparsityReport.Measure(model), removal.DenseMacs, removal.PrunedMacs, null, null, distilled) { Blocks = blocks };
                }
                else
                {
                    var calibration = s.Calibration is > 0 and int count ? First(feed, count) : null;
                    var removal = StructuredPruning.Channels(model, s, d.Seed, sample, recover, calibration,
                        importance => importance is ApozImportance apoz ? g => apoz.Observe(g, ObservedBatches(feed)) : null, at);
                    model.Dispose();
                    model = removal.Model;
                    recover?.Invoke(model);
                    result = new StageResult(s, null, null, SparsityReport.Measure(model), removal.DenseMacs, removal.PrunedMacs, null,
                        new ChannelStageResult(removal.Groups, removal.Blocked, removal.DenseParameters, removal.PrunedParameters), distilled);
                }
                results.Add(result with
                {
                    Elapsed = stageClock.Elapsed, Distillations = result.Distillation is { } last && distillations.Count == 0 ? [last] : distillations, Trainable = s.Structure is null || recover is null ? null : fineTune.Trainable.Select(model),
                });
                progress.Detail?.Report($"stage {i + 1} took {stageClock.Elapsed.TotalSeconds:F2} s");
                stageDone?.Invoke(i, results[^1]);
            }

            string? output = null;
            var written = fed;
            if (d.Export is { } export)
            {
                output = Path.GetFullPath(export.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(output)!);
                written = Pipeline.Write(model, fed, export, output);
            }
            return new PipelineResult(d, fed, results, output, clock.Elapsed, Pipeline.Latency(d, output, dense, progress, cancellation))
            {
                Written = written, TakesPixels = model.Graph.Inputs.Any(v => v.ElementType is DataType.Float or DataType.Float16 or DataType.Double),
                Examples = $"{feed.Count} unlabeled examples of {string.Join(", ", examples.Names)} from {data.Source}",
            };
        }
        finally
        {
            model.Dispose();
            if (dense is not null) File.Delete(dense);
        }
    }

    /// <summary>The first <paramref name="count"/> examples of <paramref name="feed"/> (all if it holds fewer), as one batch.</summary>
    static IReadOnlyList<Tensor> First(IInputSource feed, int count) => feed.Inputs(Enumerable.Range(0, Math.Min(count, feed.Count)).ToArray());

    /// <summary>The batches a data-driven channel criterion observes: the first 8 batches of <see cref="ObservedBatchSize"/> examples (fewer if there are fewer).</summary>
    static IEnumerable<IReadOnlyList<Tensor>> ObservedBatches(IInputSource feed)
    {
        for (int start = 0; start < Math.Min(feed.Count, 8 * ObservedBatchSize); start += ObservedBatchSize)
            yield return feed.Inputs(Enumerable.Range(start, Math.Min(ObservedBatchSize, feed.Count - start)).ToArray());
    }
}
