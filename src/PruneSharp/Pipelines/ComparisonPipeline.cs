using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using PruneSharp.Data;
using PruneSharp.Files;
using PruneSharp.Metrics;
using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>One row of a comparison: a model and what was measured on it.</summary>
/// <param name="Key">The cache key it was computed under (the resolved description and the data's hashes).</param>
/// <param name="Name">The variant's name (<c>dense</c> for the dense model), as in its file names.</param>
/// <param name="Label">Its name in the table.</param>
/// <param name="Sparsity">The sparsity of the weights its last stage could prune (0 for the dense model and structured stages).</param>
/// <param name="Parameters">All its parameters.</param>
/// <param name="NonZeros">Its non-zero parameters.</param>
/// <param name="DenseMacs">MACs per example of the model it started from.</param>
/// <param name="EffectiveMacs">MACs per example with zeros skipped and removed channels gone.</param>
/// <param name="AccuracyAfterPruning">Top-1 test accuracy right after pruning, before the recovery (null for the dense model or without evaluation).</param>
/// <param name="Accuracy">Top-1 test accuracy (after the recovery; null without evaluation).</param>
/// <param name="Seconds">Wall time of the step (training or pruning, recovery and measurement).</param>
/// <param name="Smaller">Whole channels, heads or blocks were removed: the model itself shrank.</param>
/// <param name="LatencyMs">Median milliseconds per call at batch 1 (null: not timed).</param>
/// <param name="DenseLatencyMs">The dense model's median, timed alternately with it (null: not timed).</param>
public sealed record ComparisonRow(string Key, string Name, string Label, double Sparsity, long Parameters, long NonZeros, long DenseMacs, long EffectiveMacs,
    double? AccuracyAfterPruning, double? Accuracy, double Seconds, bool Smaller = false, double? LatencyMs = null, double? DenseLatencyMs = null);

/// <summary>What a comparison did.</summary>
/// <param name="Description">The comparison run.</param>
/// <param name="Folder">Where its models and cached rows are (full path).</param>
/// <param name="Rows">The dense model's row, then one per variant, in order.</param>
/// <param name="Store">The run store holding one completed run per row (full path).</param>
/// <param name="Report">The HTML report of that store (full path).</param>
/// <param name="TestExamples">The test examples every accuracy was measured on.</param>
public sealed record ComparisonResult(ComparisonDescription Description, string Folder, IReadOnlyList<ComparisonRow> Rows, string Store, string Report, int TestExamples);

/// <summary>
/// Runs a <see cref="ComparisonDescription"/>: trains the dense model (or takes the given file), runs each variant's
/// pipeline on it (an at-init variant: its training from initialisation, <see cref="AtInitTraining"/>), measures every
/// model on the same test split, records one run per row in the folder's run store (made afresh, so that it holds
/// exactly the table) and in the caller's store when given one, and writes the HTML report of the folder's store. Each step's row is cached in the folder (a JSON file beside the step's model) under
/// a key made of the resolved description and the hashes of the data; a step whose key matches and whose model is
/// present is reused, so that a re-run, or a run after an interruption, only computes what is missing
/// (<see cref="ComparisonDescription.Recompute"/>: all of it).
/// </summary>
public static class ComparisonPipeline
{
    /// <summary>The kind of run each row is recorded as.</summary>
    public const string Kind = "comparison";

    /// <summary>The name of the dense model's row and files.</summary>
    public const string DenseName = "dense";

    /// <summary>The dense model's label in the table.</summary>
    public const string DenseLabel = "dense (no pruning)";

    static readonly Regex FileName = new("^[A-Za-z0-9][A-Za-z0-9._-]*$");

    /// <summary>The model file of the row <paramref name="name"/> in the comparison's folder: <c>MODEL-NAME.onnx</c>.</summary>
    public static string ModelFile(ComparisonDescription d, string name) =>
        Path.GetFullPath(Path.Combine(d.Folder, $"{Path.GetFileNameWithoutExtension(d.Model)}-{name}.onnx"));

    /// <summary>The dense model's file: the one its training writes, or the given model.</summary>
    public static string DenseModel(ComparisonDescription d) => d.Dense is null ? d.Model : ModelFile(d, DenseName);

    /// <summary>The training run of the dense model (null when the comparison's model is the dense model).</summary>
    public static TrainingDescription? DenseTraining(ComparisonDescription d) => d.Dense is not { } dense ? null
        : new TrainingDescription(d.Model, d.Data with { TrainExamples = dense.TrainExamples }, new ExportDescription(ModelFile(d, DenseName)), dense.Training, d.Seed);

    /// <summary>
    /// The training run of an at-init <paramref name="variant"/> (null for one of stages): the dense model's training
    /// (same model, data, seed and settings) with <see cref="ComparisonVariant.AtInit"/>, written to the folder.
    /// </summary>
    public static TrainingDescription? AtInitTraining(ComparisonDescription d, ComparisonVariant variant) =>
        variant.AtInit is not { } atInit || DenseTraining(d) is not { } dense ? null
            : dense with { Export = new ExportDescription(ModelFile(d, variant.Name)), AtInit = atInit };

    /// <summary>The pipeline of <paramref name="variant"/>: its stages and recovery on the dense model, written to the folder, measured as the comparison asks.</summary>
    public static PipelineDescription VariantPipeline(ComparisonDescription d, ComparisonVariant variant) =>
        new(DenseModel(d), d.Data, variant.Stages, variant.Recovery ?? d.Recovery, new ExportDescription(ModelFile(d, variant.Name)), d.Seed, d.Evaluate, d.Latency);

    /// <summary>
    /// Every problem of <paramref name="d"/> that shows without loading data or a model, each naming its field as a
    /// recipe writes it (<c>comparison.variants[1].stages[0].method</c>, <c>comparison.dense.lr</c>, ...).
    /// </summary>
    public static IReadOnlyList<PipelineProblem> Validate(ComparisonDescription d)
    {
        var problems = new ProblemList();
        problems.Require("comparison.folder", d.Folder.Length > 0, "comparison.folder is required (where the models, cached rows, run store and report go)");
        problems.Require("comparison.variants", d.Variants.Count > 0, "comparison.variants: a comparison needs at least one variant");
        problems.Require("data.source", !Sources.IsText(d.Data.Source), $"data.source '{d.Data.Source}': a comparison measures classifiers on image data, not a text file");
        for (int i = 0; i < d.Variants.Count; i++)
        {
            string name = d.Variants[i].Name, at = $"comparison.variants[{i}]";
            problems.Require($"{at}.name", FileName.IsMatch(name) && name != DenseName,
                $"{at}.name '{name}' must be letters, digits, '.', '_' or '-' (it names the variant's files), and not '{DenseName}'");
            int first = d.Variants.Select(v => v.Name).ToList().IndexOf(name);
            problems.Require($"{at}.name", first == i, $"{at}.name '{name}' is also the name of comparison.variants[{first}]");
        }
        if (DenseTraining(d) is { } training)
            problems.AddRange(TrainingPipeline.Validate(training).Select(p =>
                Rebased(Rebased(p, "recovery.", "comparison.dense."), "data.train_examples", "comparison.dense.train_examples")));
        else if (!File.Exists(d.Model))
            problems.Add(new PipelineProblem("model", $"model '{d.Model}' is the dense model when comparison.dense is not given: it must be an existing ONNX file (or give comparison.dense to train it)", []));
        for (int i = 0; i < d.Variants.Count; i++)
        {
            var v = d.Variants[i];
            string at = $"comparison.variants[{i}]";
            if (v.AtInit is not null)
            {
                problems.Require($"{at}.at_init", v.Stages.Count == 0 && v.Recovery is null,
                    $"{at}.at_init trains the variant from initialisation with comparison.dense's settings: it takes no stages or recovery");
                problems.Require($"{at}.at_init", d.Dense is not null,
                    $"{at}.at_init trains the variant from initialisation with comparison.dense's settings: give comparison.dense");
                // The training's own problems are the dense model's, reported above; those of the at-init settings are the variant's.
                if (AtInitTraining(d, v) is { } atInitTraining)
                    problems.AddRange(TrainingPipeline.Validate(atInitTraining).Where(p => p.Field.StartsWith("training.at_init", StringComparison.Ordinal))
                        .Select(p => Rebased(p, "training.at_init", $"{at}.at_init")));
                continue;
            }
            // Checked on the comparison's model: the dense model's file does not exist before its training.
            foreach (var p in Pipeline.Validate(VariantPipeline(d, v) with { Model = d.Model }))
            {
                var rebased = Rebased(p, "stages", $"{at}.stages");
                problems.Add(v.Recovery is null ? rebased : Rebased(rebased, "recovery.", $"{at}.recovery."));
            }
        }
        // The data and the model are checked once per variant: each problem is reported once.
        return problems.DistinctBy(p => (p.Field, p.Message)).ToList();
    }

    /// <summary>The problem of a field under <paramref name="from"/> as the field under <paramref name="to"/> (the message renamed too).</summary>
    static PipelineProblem Rebased(PipelineProblem p, string from, string to) => !p.Field.StartsWith(from, StringComparison.Ordinal) ? p
        : p with { Field = to + p.Field[from.Length..], Message = p.Message.StartsWith(from, StringComparison.Ordinal) ? to + p.Message[from.Length..].Replace(from, to) : p.Message.Replace(from, to) };

    /// <summary>Runs <paramref name="d"/>.</summary>
    /// <param name="d">The comparison.</param>
    /// <param name="progress">Where progress goes (a status line per step, <c>reusing ...</c> for a cached one).</param>
    /// <param name="cancellation">Stops training between batches with <see cref="OperationCanceledException"/>; the finished steps stay cached.</param>
    /// <param name="recording">
    /// Also records the rows there (besides the folder's own store): the dense model's row is a run begun before the
    /// first step (ended failed with the error, or "interrupted", if the comparison stops); when all steps are done,
    /// the variants' rows are recorded and the dense model's run completed in one transaction, so that a process
    /// that dies on the way leaves no completed row a sweep would take for a finished cell; every row's run is
    /// <paramref name="recording"/>'s start with the row's method, sparsity, variant and label (see
    /// <see cref="ComparisonRecording.Start"/>), so all share its kind, name and group.
    /// </param>
    /// <exception cref="ArgumentException">A choice is invalid or inconsistent (the message names the field), or <paramref name="recording"/>'s store is the folder's own.</exception>
    public static ComparisonResult Run(ComparisonDescription d, PipelineProgress? progress = null, CancellationToken cancellation = default, PipelineRecording? recording = null)
    {
        if (Validate(d) is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems.Select(p => p.ToString())));
        string store = Path.Combine(Path.GetFullPath(d.Folder), "runs.db");
        if (recording is null) return Compare(d, progress ?? PipelineProgress.None, cancellation);
        if (recording.Store.Location == store)
            throw new ArgumentException($"run store '{store}' is the comparison's own (comparison.folder's runs.db, made afresh on every run): record in another store");
        return PipelineRecording.Record(recording with { Start = ComparisonRecording.Start(recording.Start, d, DenseName, DenseLabel, 0) },
            _ => Compare(d, progress ?? PipelineProgress.None, cancellation), result => ComparisonRecording.Outcome(d, result.Rows[0], result.Rows[0]),
            result => ComparisonRecording.Variants(recording.Start, d, result.Rows));
    }

    /// <summary>Computes or reuses every step, records the rows in the folder's store and writes the report.</summary>
    static ComparisonResult Compare(ComparisonDescription d, PipelineProgress progress, CancellationToken cancellation)
    {
        string folder = Path.GetFullPath(d.Folder);
        Directory.CreateDirectory(folder);
        var sizes = Preprocessing.None with { Resize = d.Data.Resize, Crop = d.Data.Crop };
        var train = Sources.LoadData(d.Data.Source, DataSplit.Train, sizes, "data.source");
        var test = Sources.LoadData(d.Data.Source, DataSplit.Test, sizes, "data.source");
        // The data's hashes are part of every key: other files under the same name (or a changed loader) recompute every step.
        string data = $"data {RunFingerprint.Hash(train)}/{RunFingerprint.Hash(test)}";
        var cache = new StepCache(d.Recompute, progress.Status);
        int steps = d.Variants.Count + 1;

        var training = DenseTraining(d);
        string dense = DenseModel(d);
        // Threads change how fast, not what: they are left out of the keys.
        string denseKey = training is null ? $"model {RunFingerprint.HashFile(dense)} {data}"
            : TrainingKey(training, data);
        var rows = new List<ComparisonRow>
        {
            cache.Row(Path.ChangeExtension(ModelFile(d, DenseName), ".json"), denseKey, dense, () =>
            {
                var clock = Stopwatch.StartNew();
                if (training is not null)
                {
                    progress.Status?.Report($"[1/{steps}] training {d.Model} on {d.Data.Source} for {training.Training.Epochs} epoch(s)");
                    Train(training, folder, progress, cancellation);
                }
                return Measure(denseKey, d, DenseName, DenseLabel, 0, dense, null, test, clock, cancellation);
            }),
        };
        for (int i = 0; i < d.Variants.Count; i++)
        {
            var variant = d.Variants[i];
            if (AtInitTraining(d, variant) is { } atInit)
            {
                string trainingKey = TrainingKey(atInit, data);
                rows.Add(cache.Row(Path.ChangeExtension(atInit.Export.Path, ".json"), trainingKey, atInit.Export.Path, () =>
                {
                    var clock = Stopwatch.StartNew();
                    progress.Status?.Report($"[{i + 2}/{steps}] {variant.Label ?? variant.Name}: prune at initialisation ({atInit.AtInit!.Method}), train {atInit.Training.Epochs} epoch(s)");
                    var trained = Train(atInit, folder, progress, cancellation);
                    return Measure(trainingKey, d, variant.Name, variant.Label ?? variant.Name, trained.AtInit!.Sparsity, atInit.Export.Path, dense, test, clock, cancellation);
                }));
                continue;
            }
            var pipeline = VariantPipeline(d, variant);
            string key = $"{denseKey} | {Key(pipeline with { Model = "", Export = pipeline.Export! with { Path = "" }, Recovery = pipeline.Recovery with { Threads = null } })}";
            string step = $"[{i + 2}/{steps}] {variant.Label ?? variant.Name}";
            rows.Add(cache.Row(Path.ChangeExtension(pipeline.Export!.Path, ".json"), key, pipeline.Export.Path, () =>
            {
                var r = pipeline.Recovery;
                progress.Status?.Report(r.Epochs == 0 || r.Kind == "none" ? $"{step}: prune"
                    : $"{step}: prune, {(r.Kind == "finetune" ? "fine-tune" : r.Kind)} {r.Epochs} epoch(s) of {Math.Min(d.Data.TrainExamples ?? train.Count, train.Count)} examples");
                return Row(key, variant, Pipeline.Run(pipeline, progress, cancellation));
            }));
        }
        string store = Path.Combine(folder, "runs.db");
        string report = Path.GetFullPath(d.Report ?? Path.Combine(folder, "report.html"));
        progress.Status?.Report($"recording {rows.Count} runs and writing {report}");
        ComparisonRecording.Write(d, rows, store, report);
        return new ComparisonResult(d, folder, rows, store, report, d.Data.TestExamples is { } m ? Math.Min(m, test.Count) : test.Count);
    }

    static string Key<T>(T description) => JsonSerializer.Serialize(description);

    /// <summary>The cache key of a training step: its description without the output path and the thread count, and the data's hashes.</summary>
    static string TrainingKey(TrainingDescription training, string data) =>
        $"{Key(training with { Export = training.Export with { Path = "" }, Training = training.Training with { Threads = null } })} {data}";

    /// <summary>Runs a training step; an interruption says that the finished steps are cached in <paramref name="folder"/>.</summary>
    static TrainingRunResult Train(TrainingDescription training, string folder, PipelineProgress progress, CancellationToken cancellation)
    {
        try
        {
            return TrainingPipeline.Run(training, progress, cancellation);
        }
        catch (TrainingInterruptedException e)
        {
            throw new OperationCanceledException($"interrupted; the finished steps are cached in {folder}: run again to continue", e);
        }
    }

    /// <summary>
    /// The row of a trained model (the dense one, or an at-init variant's, timed alternately with <paramref name="baseline"/>):
    /// its size, MACs, accuracy on the test split (fed as the pipelines feed it) and latency.
    /// </summary>
    static ComparisonRow Measure(string key, ComparisonDescription d, string name, string label, double sparsity, string file, string? baseline, ImageDataset test,
        Stopwatch clock, CancellationToken cancellation)
    {
        using var model = Sources.LoadModel(file, test, d.Seed, false, "model");
        var fed = Pipeline.Input(file, d.Data, null, null, model);
        test.Normalization = fed.Fed ?? Normalization.None(test.Channels);
        var macs = MacCounter.Measure(model, new[] { test.GetBatch(new[] { 0 }).Inputs });
        var all = SparsityReport.Measure(model);
        double? accuracy = d.Evaluate ? Evaluator.Classify(model, d.Data.TestExamples is { } m ? Subset.First(test, m) : test).Top1 : null;
        double? latency = null, denseLatency = null;
        if (d.Latency is { } timing && baseline is not null)
        {
            var timed = Pipeline.Latency(file, baseline, timing, cancellation);
            (latency, denseLatency) = (timed.Median * 1e3, timed.DenseMedian * 1e3);
        }
        else if (d.Latency is { } alone)
            latency = denseLatency = ModelBenchmark.Run(file, new ModelBenchmarkOptions { Threads = alone.Threads, Rounds = alone.Rounds }, cancellation).Batches[0].Rows[0].Latency.Median * 1e3;
        return new ComparisonRow(key, name, label, sparsity, all.Parameters, all.NonZeros, macs.DenseMacs, macs.EffectiveMacs, null, accuracy,
            clock.Elapsed.TotalSeconds, LatencyMs: latency, DenseLatencyMs: denseLatency);
    }

    /// <summary>A variant's row from what its pipeline did.</summary>
    static ComparisonRow Row(string key, ComparisonVariant variant, PipelineResult result)
    {
        var first = result.Stages[0];
        var last = result.Stages[^1];
        double sparsity = 0;
        if (last.Unstructured is { } u) sparsity = new SparsityReport(u.Outcome.Sparsity.Layers.Where(l => u.Outcome.Prunable.Contains(l.Name)).ToList()).Sparsity;
        return new ComparisonRow(key, variant.Name, variant.Label ?? variant.Name, sparsity, last.Weights.Parameters, last.Weights.NonZeros, first.DenseMacs, last.Macs,
            (last.AfterPruning ?? last.After)?.Top1, last.After?.Top1, result.Elapsed.TotalSeconds, Smaller: result.Stages.Any(s => s.Unstructured is null),
            result.Latency?.Median * 1e3, result.Latency?.DenseMedian * 1e3);
    }
}
