using System.Diagnostics;
using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Opsets;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Pruning.Structured;
using PruneSharp.Recovery;
using PruneSharp.Runs;
using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>One problem of a pipeline description.</summary>
/// <param name="Field">The field, as a recipe writes it (<c>stages[0].method</c>).</param>
/// <param name="Message">What is wrong, naming the field.</param>
/// <param name="Suggestions">The nearest valid names, for a mistyped name (else empty).</param>
public sealed record PipelineProblem(string Field, string Message, IReadOnlyList<string> Suggestions)
{
    /// <summary>The message, with the suggestions if any.</summary>
    public override string ToString() => Suggestions.Count == 0 ? Message : $"{Message} (did you mean {string.Join(" or ", Suggestions)}?)";
}

/// <summary>What one stage of a pipeline did.</summary>
/// <param name="Stage">The stage as described.</param>
/// <param name="Before">Test metrics before the stage (null without evaluation).</param>
/// <param name="After">Test metrics after the stage and its recovery (null without evaluation).</param>
/// <param name="Weights">Every parameter's size and non-zeros after the stage.</param>
/// <param name="DenseMacs">MACs per example before the stage.</param>
/// <param name="Macs">Effective MACs per example after it (zeros skipped, removed channels gone).</param>
/// <param name="Unstructured">What an unstructured stage did (null for channels).</param>
/// <param name="Channels">What a channel or head stage did (null for other stages).</param>
/// <param name="Distillation">What the last distillation did (null without distillation).</param>
public sealed record StageResult(StageDescription Stage, ClassificationMetrics? Before, ClassificationMetrics? After, SparsityReport Weights, long DenseMacs, long Macs,
    UnstructuredStageResult? Unstructured, ChannelStageResult? Channels, DistillationResult? Distillation)
{
    /// <summary>Wall time of the stage, its recovery and evaluation included.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Test metrics right after pruning, before the recovery (null without evaluation or recovery epochs, and for schedules that prune while training).</summary>
    public ClassificationMetrics? AfterPruning { get; init; }

    /// <summary>What a block stage did (null for other stages).</summary>
    public BlockStageResult? Blocks { get; init; }

    /// <summary>The parameters a structured stage's recovery trained (null without recovery epochs; unstructured stages: <see cref="UnstructuredOutcome.Trainable"/>).</summary>
    public TrainableSelection? Trainable { get; init; }

    /// <summary>Every distillation of the stage, in order: one per step of a structured stage pruned in steps (the last is <see cref="Distillation"/>).</summary>
    public IReadOnlyList<DistillationResult> Distillations { get; init; } = [];

    /// <summary>A language model's held-out perplexity before the stage (null unless the data is text and evaluated).</summary>
    public PerplexityResult? PerplexityBefore { get; init; }

    /// <summary>A language model's held-out perplexity after the stage and its recovery (null unless the data is text and evaluated).</summary>
    public PerplexityResult? PerplexityAfter { get; init; }

    /// <summary>An unstructured stage on unlabeled inputs: every output's fidelity to the dense model before and after the distillation (null otherwise).</summary>
    public UnlabeledOutcome? Unlabeled { get; init; }
}

/// <summary>What an unstructured stage did.</summary>
/// <param name="Sparsity">The sparsity it pruned to (given, or fixed by a pattern granularity).</param>
/// <param name="KeptFirstAndLast">Whether the first and last layers were left dense.</param>
/// <param name="Outcome">Its pruned weights and the choices it made.</param>
public sealed record UnstructuredStageResult(double Sparsity, bool KeptFirstAndLast, UnstructuredOutcome Outcome);

/// <summary>What a channel or head stage did.</summary>
/// <param name="Groups">Each coupled group's width before and after (for heads: the attention layers and the channel groups narrowed beside them).</param>
/// <param name="Blocked">Groups left whole, with the reasons.</param>
/// <param name="DenseParameters">Parameters before.</param>
/// <param name="PrunedParameters">Parameters after.</param>
public sealed record ChannelStageResult(IReadOnlyList<GroupChange> Groups, IReadOnlyList<BlockedGroup> Blocked, long DenseParameters, long PrunedParameters);

/// <summary>The written model's latency, measured alternately with the dense model's.</summary>
/// <param name="Median">Median seconds per call of the written model at batch 1.</param>
/// <param name="DenseMedian">Median seconds per call of the dense model.</param>
/// <param name="Threads">ONNX Runtime's intra-op threads.</param>
/// <param name="Rounds">Timed rounds (after one warm-up call each).</param>
public sealed record LatencyResult(double Median, double DenseMedian, int Threads, int Rounds);

/// <summary>What a whole pipeline did.</summary>
/// <param name="Description">The pipeline run.</param>
/// <param name="Input">What the data pipeline fed the model.</param>
/// <param name="Stages">Each stage's result, in order.</param>
/// <param name="Output">The file written (null: none).</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
/// <param name="Latency">The written model's latency (null unless <see cref="PipelineDescription.Latency"/> asked for it).</param>
public sealed record PipelineResult(PipelineDescription Description, Preprocessing Input, IReadOnlyList<StageResult> Stages, string? Output, TimeSpan Elapsed,
    LatencyResult? Latency = null)
{
    /// <summary>The preprocessing the written model takes (that of <see cref="Input"/>, or none once embedded as nodes).</summary>
    public Preprocessing Written { get; init; } = Input;

    /// <summary>Whether the model reads floating-point inputs (images), which the preprocessing describes; a model fed token ids does not.</summary>
    public bool TakesPixels { get; init; }

    /// <summary>Test metrics of the dense model (null without evaluation).</summary>
    public ClassificationMetrics? Before => Stages.Count == 0 ? null : Stages[0].Before;

    /// <summary>Test metrics after the last stage (null without evaluation).</summary>
    public ClassificationMetrics? After => Stages.Count == 0 ? null : Stages[^1].After;

    /// <summary>A language model's held-out perplexity before the first stage (null unless the data is text).</summary>
    public PerplexityResult? PerplexityBefore => Stages.Count == 0 ? null : Stages[0].PerplexityBefore;

    /// <summary>A language model's held-out perplexity after the last stage (null unless the data is text).</summary>
    public PerplexityResult? PerplexityAfter => Stages.Count == 0 ? null : Stages[^1].PerplexityAfter;

    /// <summary>Unlabeled data: how many examples of which inputs were read from where, in words (null for other data).</summary>
    public string? Examples { get; init; }
}

/// <summary>
/// Runs a <see cref="PipelineDescription"/>: load → prune stages (each followed by its recovery) → evaluate → export.
/// The choices are checked before any data or model is loaded, so that a typo fails at once. The data's kind
/// (<see cref="Sources.Kind"/>) decides how the stages read it: labelled images here, a language model's text in
/// <see cref="LanguageModelPipeline"/>, unlabeled inputs in <see cref="UnlabeledPipeline"/>.
/// </summary>
public static class Pipeline
{
    /// <summary>Runs <paramref name="description"/>.</summary>
    /// <param name="description">The pipeline.</param>
    /// <param name="progress">Where progress goes.</param>
    /// <param name="cancellation">Stops training between batches with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">A choice is invalid or inconsistent; the message names the field.</exception>
    /// <param name="recording">Where the run is recorded (null: nowhere); a run that fails, its checks included, is recorded as failed.</param>
    public static PipelineResult Run(PipelineDescription description, PipelineProgress? progress = null, CancellationToken cancellation = default,
        PipelineRecording? recording = null)
    {
        progress ??= PipelineProgress.None;
        return PipelineRecording.Record(recording, recorder => recorder is null ? Execute(description, progress, null, cancellation)
            : Execute(description, PipelineRecording.Recording(progress, recorder), (i, stage) => recorder.Step(i + 1, PipelineRecording.Step(stage)), cancellation),
            PipelineRecording.Outcome);
    }

    static PipelineResult Execute(PipelineDescription d, PipelineProgress progress, Action<int, StageResult>? stageDone, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var recovery = d.Recovery;
        if (Validate(d) is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems.Select(p => p.ToString())));
        switch (Sources.Kind(d.Data))
        {
            case DataKind.Text: return LanguageModelPipeline.Run(d, progress, stageDone, cancellation);
            case DataKind.Unlabeled: return UnlabeledPipeline.Run(d, progress, stageDone, cancellation);
        }

        var sizes = Preprocessing.None with { Resize = d.Data?.Resize, Crop = d.Data?.Crop };
        var train = d.Data is null ? null : Sources.LoadData(d.Data.Source, DataSplit.Train, sizes, "data.source");
        var test = d.Data is null || !d.Evaluate ? null : Sources.LoadData(d.Data.Source, DataSplit.Test, sizes, "data.source");
        if (train is not null) train.Augmentation = d.Data!.Augment is { } augment ? Augmentation.Parse(augment, "data.augment") : null;
        bool structured = d.Stages.Any(st => st.Structure is not null);
        var model = Sources.LoadModel(d.Model, train, d.Seed, structured, "model");
        string? dense = null;
        try
        {
            using var teacher = recovery.Kind == "distill" ? Sources.LoadModel(d.Model, train, d.Seed, structured, "model") : null;
            Sources.RequireInputs(model);
            var fed = Input(d.Model, d.Data, d.Inputs, d.Export, model);
            // The dense model as the pruned one will be written, timed beside it.
            if (d.Latency is not null) Write(model, fed, d.Export!, dense = DenseCopy());
            foreach (var set in new[] { train, test })
                if (set is not null) set.Normalization = fed.Fed ?? Normalization.None(set.Channels);
            IDataset? fitData = train is null ? null : d.Data!.TrainExamples is { } n ? Subset.First(train, n) : train;
            IDataset? evalData = test is null ? null : d.Data!.TestExamples is { } m ? Subset.First(test, m) : test;
            var examples = test is not null ? new[] { test.GetBatch(new[] { 0 }).Inputs } : InputSynthesis.Synthesize(model.Graph, Sources.Synthesis(d.Inputs), d.Seed);
            var fineTune = FineTune(recovery, d.Seed, fitData?.Count ?? 0);

            var results = new List<StageResult>();
            for (int i = 0; i < d.Stages.Count; i++)
            {
                var s = d.Stages[i];
                string at = $"stages[{i}]";
                var stageClock = Stopwatch.StartNew();
                var distillations = new List<DistillationResult>();
                DistillationResult? distilled = null;
                void Distill(GraphModule student, MaskSet? masks)
                {
                    masks?.Apply();
                    distilled = Distillation.Run(teacher!, student, new DatasetInputs(fitData!), DistillationSettings(recovery), fineTune,
                        masks is null ? null : new ITrainingCallback[] { new MaskedTraining(masks) }, progress.For("distill"), cancellation);
                    if (distilled.Training.Cancelled) throw new OperationCanceledException();
                    distillations.Add(distilled);
                }
                if (s.Structure is null)
                {
                    var (stage, keep) = UnstructuredPruning.Stage(s, at, model, d.Seed);
                    Action<MaskSet>? distill = teacher is null || fineTune.Epochs == 0 ? null : masks => Distill(model, masks);
                    var outcome = UnstructuredPruning.Run(model, stage, fineTune, fitData, evalData, examples, distill, progress, cancellation);
                    results.Add(new StageResult(s, outcome.Before, outcome.After, outcome.Sparsity, outcome.DenseMacs.DenseMacs, outcome.PrunedMacs.EffectiveMacs,
                        new UnstructuredStageResult(stage.Sparsity, keep, outcome), null, distilled) { AfterPruning = outcome.AfterPruning });
                }
                else
                {
                    var before = evalData is null ? null : Evaluator.Classify(model, evalData);
                    // Fine-tuning, or distillation with the dense model (never modified by the pruner) as the teacher.
                    void Recover(GraphModule m)
                    {
                        if (teacher is not null)
                        {
                            Distill(m, null);
                            return;
                        }
                        using var trainer = new Trainer(m, fineTune) { Progress = progress.For("fine-tune") };
                        if (trainer.Fit(fitData!, cancellation).Cancelled) throw new OperationCanceledException();
                    }
                    Action<GraphModule>? recover = fineTune.Epochs > 0 ? Recover : null;
                    GraphModule smaller;
                    ChannelStageResult? channels = null;
                    BlockStageResult? blocks = null;
                    long denseMacs;
                    if (s.Structure == "block")
                    {
                        var (result, stage) = StructuredPruning.Blocks(model, s, at, d.Seed, fitData, d.Inputs);
                        (smaller, blocks, denseMacs) = (result.Model, stage, result.DenseMacs);
                    }
                    else
                    {
                        var result = StructuredPruning.Channels(model, s, at, d.Seed, fitData, examples, recover);
                        (smaller, denseMacs) = (result.Model, result.DenseMacs);
                        channels = new ChannelStageResult(result.Groups, result.Blocked, result.DenseParameters, result.PrunedParameters);
                    }
                    model.Dispose();
                    model = smaller;
                    var pruned = evalData is null || recover is null ? null : Evaluator.Classify(model, evalData);
                    recover?.Invoke(model);
                    var after = evalData is null ? null : Evaluator.Classify(model, evalData);
                    results.Add(new StageResult(s, before, after, SparsityReport.Measure(model), denseMacs, MacCounter.Measure(model, examples).EffectiveMacs, null, channels, distilled)
                    {
                        AfterPruning = pruned, Blocks = blocks, Trainable = recover is null ? null : fineTune.Trainable.Select(model),
                    });
                }
                results[^1] = results[^1] with { Elapsed = stageClock.Elapsed, Distillations = distillations };
                if (i == 0 && results[0].Before is { } first && Plausibility.Classification(first, test!.Classes.Count) is { } warning) progress.Warning?.Report(warning);
                progress.Detail?.Report($"stage {i + 1} took {stageClock.Elapsed.TotalSeconds:F2} s");
                stageDone?.Invoke(i, results[^1]);
                if (d.Stages.Count > 1) progress.Status?.Report($"stage {i + 1}/{d.Stages.Count}: {s.Method}{(s.Structure is null ? $" {s.Granularity} to sparsity {results[^1].Unstructured!.Sparsity:0.###}" : s.Blocks is { } count ? $" {count} block(s)" : $" {s.Structure} ratio {s.Ratio:0.###}")}");
            }

            string? output = null;
            var written = fed;
            if (d.Export is { } export)
            {
                output = Path.GetFullPath(export.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(output)!);
                written = Write(model, fed, export, output);
            }
            var latency = Latency(d, output, dense, progress, cancellation);
            return new PipelineResult(d, fed, results, output, clock.Elapsed, latency)
            {
                Written = written, TakesPixels = model.Graph.Inputs.Any(v => v.ElementType is DataType.Float or DataType.Float16 or DataType.Double),
            };
        }
        finally
        {
            model.Dispose();
            if (dense is not null) File.Delete(dense);
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/> with its preprocessing as nodes or as metadata, at
    /// its file's own opset with <see cref="ExportDescription.KeepOpset"/>; returns the preprocessing the file takes.
    /// </summary>
    internal static Preprocessing Write(GraphModule model, Preprocessing fed, ExportDescription export, string path)
    {
        var graph = model.ToGraph();
        var written = fed;
        if (export.EmbedPreprocessing) written = fed.EmbedInto(graph);
        else fed.WriteMetadata(graph.Metadata);
        OnnxFile.Write(export.KeepOpset ? AtSourceOpset(graph) : graph, path);
        return written;
    }

    /// <summary><paramref name="graph"/> at the opset of the file it was read from (as it is if that was current).</summary>
    static Graph.Graph AtSourceOpset(Graph.Graph graph)
    {
        if (graph.SourceOpset is not int source) return graph;
        try
        {
            return OpsetConversion.Downgrade(graph, source);
        }
        catch (GraphException e)
        {
            throw new GraphException($"export.keep_opset: {e.Message}; leave it out to write opset {OpsetConversion.Target}", e);
        }
    }

    /// <summary>The distillation settings of <paramref name="recovery"/>.</summary>
    internal static DistillationOptions DistillationSettings(RecoveryDescription recovery) => new()
    {
        Loss = TrainingParts.DistillationLoss(recovery.DistillLoss ?? "auto", "recovery.distill_loss"),
        Temperature = recovery.Temperature ?? new DistillationOptions().Temperature,
        Features = recovery.DistillFeatures ?? Array.Empty<string>(),
    };

    /// <summary>Where the dense model is written to be timed beside the pruned one (a new temporary file; the caller deletes it).</summary>
    internal static string DenseCopy() => Path.Combine(Path.GetTempPath(), $"prunesharp-dense-{Guid.NewGuid():N}.onnx");

    /// <summary>
    /// The latency <see cref="PipelineDescription.Latency"/> asks for: the written <paramref name="output"/> and the
    /// <paramref name="dense"/> copy timed alternately (null when not asked).
    /// </summary>
    internal static LatencyResult? Latency(PipelineDescription d, string? output, string? dense, PipelineProgress progress, CancellationToken cancellation)
    {
        if (d.Latency is not { } timing) return null;
        var timed = Stopwatch.StartNew();
        var latency = Latency(output!, dense!, timing, cancellation);
        progress.Detail?.Report($"latency: {timing.Rounds} rounds at {timing.Threads} thread(s) in {timed.Elapsed.TotalSeconds:F2} s");
        return latency;
    }

    /// <summary>The median latency of <paramref name="model"/> and of <paramref name="dense"/> at batch 1, timed alternately in ONNX Runtime.</summary>
    internal static LatencyResult Latency(string model, string dense, LatencyDescription timing, CancellationToken cancellation)
    {
        var report = ModelBenchmark.Run(model, new ModelBenchmarkOptions { Baseline = dense, Batches = new[] { 1 }, Threads = timing.Threads, Rounds = timing.Rounds }, cancellation);
        var rows = report.Batches[0].Rows;
        return new LatencyResult(rows[0].Latency.Median, rows[1].Latency.Median, timing.Threads, timing.Rounds);
    }

    /// <summary>
    /// Every problem of <paramref name="d"/> that shows without loading data or a model: unknown names (with the
    /// nearest valid ones), values out of range, missing files, and choices that need data or training epochs.
    /// </summary>
    public static IReadOnlyList<PipelineProblem> Validate(PipelineDescription d)
    {
        var problems = new ProblemList();
        void Check(string field, Action check, IEnumerable<string>? names = null, string? given = null) => problems.Check(field, check, names, given);
        void Require(string field, bool ok, string message) => problems.Require(field, ok, message);

        var r = d.Recovery;
        Require("model", File.Exists(d.Model) || ModelZoo.IsClassifier(d.Model),
            $"model '{d.Model}' is neither an existing ONNX file nor a zoo classifier ({string.Join(", ", ModelZoo.ClassifierNames)})");
        if (!File.Exists(d.Model) && !ModelZoo.IsClassifier(d.Model) && !d.Model.Contains('/') && !d.Model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            problems[^1] = problems[^1] with { Suggestions = NearestNames.Find(d.Model, ModelZoo.ClassifierNames) };
        if (d.Data is { } data)
        {
            var kind = Sources.Kind(data);
            if (kind == DataKind.Images)
            {
                Require("data.source", KnownData.Contains(data.Source.ToLowerInvariant()) || Directory.Exists(data.Source),
                    $"data.source '{data.Source}' is neither a known data set ({Sources.DataHelp}) nor a folder");
                if (problems.Count > 0 && problems[^1].Field == "data.source" && !data.Source.Contains('/'))
                    problems[^1] = problems[^1] with { Suggestions = NearestNames.Find(data.Source, KnownData) };
                foreach (var (key, set) in new[] { ("tokenizer", data.Tokenizer is not null), ("context", data.Context is not null), ("held_out", data.HeldOut is not null) })
                    Require($"data.{key}", !set, $"data.{key} applies to a text file (a language model's, or sentences with a wordpiece tokenizer), not to images");
            }
            else Require("data.source", File.Exists(data.Source) || Directory.Exists(data.Source), $"data.source '{data.Source}' does not exist");
            Require("data.train_examples", data.TrainExamples is null or > 0, $"data.train_examples must be positive, got {data.TrainExamples}");
            Require("data.test_examples", data.TestExamples is null or > 0, $"data.test_examples must be positive, got {data.TestExamples}");
            if (data.Normalize is { } normalize) Check("data.normalize", () => Preprocessing.ParseNormalize(normalize, "data.normalize"));
            if (data.Augment is { } augment) Check("data.augment", () => Augmentation.Parse(augment, "data.augment"));
            Require("data.resize", data.Resize is null || (data.Crop is not null && data.Resize >= data.Crop), "data.resize goes with data.crop and is at least as large");
            Require("data.crop", data.Crop is null or > 0, $"data.crop must be a positive number of pixels, got {data.Crop}");
            if (kind == DataKind.Text) LanguageModelPipeline.Validate(d, problems);
            if (kind == DataKind.Unlabeled) UnlabeledPipeline.Validate(d, problems);
        }
        Require("stages", d.Stages.Count > 0, "stages: a pipeline needs at least one pruning stage");
        if (d.Latency is { } latency)
        {
            Require("evaluate.latency", d.Export is not null, "evaluate.latency times the written model: give export.path");
            Require("evaluate.threads", latency.Threads >= 1, $"evaluate.threads must be at least 1, got {latency.Threads}");
            Require("evaluate.rounds", latency.Rounds >= 1, $"evaluate.rounds must be at least 1, got {latency.Rounds}");
        }
        Require("recovery.kind", r.Kind is "finetune" or "distill" or "none", $"recovery.kind '{r.Kind}' is not one of finetune, distill, none");
        if (!RecoveryKinds.Contains(r.Kind)) problems[^1] = problems[^1] with { Suggestions = NearestNames.Find(r.Kind, RecoveryKinds) };
        Require("recovery.epochs", r.Epochs >= 0, $"recovery.epochs must be non-negative, got {r.Epochs}");
        Require("recovery.epochs", !(r.Kind == "none" && r.Epochs > 0), "recovery.kind none trains nothing: drop recovery.epochs");
        Require("recovery.epochs", !(r.Epochs > 0 && d.Data is null), "recovery.epochs needs data");
        Require("recovery.epochs", !(r.Kind == "distill" && r.Epochs == 0), "recovery.kind distill needs recovery.epochs");
        Require("recovery.batch_size", r.BatchSize > 0, $"recovery.batch_size must be positive, got {r.BatchSize}");
        Require("recovery.lr", r.LearningRate > 0, $"recovery.lr must be positive, got {r.LearningRate}");
        if (r.DistillLoss is { } loss) Check("recovery.distill_loss", () => TrainingParts.DistillationLoss(loss, "recovery.distill_loss"), TrainingParts.DistillationLosses, loss);
        Require("recovery.temperature", r.Temperature is null or > 0, $"recovery.temperature must be positive, got {r.Temperature}");
        Require("recovery.distill_loss", r.Kind == "distill" || (r.DistillLoss is null && r.Temperature is null && r.DistillFeatures is null),
            "recovery.distill_loss, recovery.temperature and recovery.distill_features go with recovery.kind distill");
        Require("recovery.threads", r.Threads is null or > 0, $"recovery.threads must be positive, got {r.Threads}");
        if (d.Inputs?.Normalize is { } normal)
        {
            Require("inputs.normalize", d.Data is null, "inputs.normalize is for a pipeline without data; give data.normalize");
            Check("inputs.normalize", () => Preprocessing.ParseNormalize(normal, "inputs.normalize"));
        }
        if (d.Inputs?.Shape is { } shapes) Check("inputs.shape", () => InputShapes.Parse(shapes, "inputs.shape"));
        Check("recovery.optimizer", () => TrainingParts.Optimizer(r.Optimizer, "recovery.optimizer"), TrainingParts.Optimizers, r.Optimizer);
        Check("recovery.lr_schedule", () => TrainingParts.Schedule(r.LearningRateSchedule, 1, 1, "recovery.lr_schedule"), TrainingParts.Schedules, r.LearningRateSchedule);
        for (int i = 0; i < d.Stages.Count; i++)
        {
            var s = d.Stages[i];
            string at = $"stages[{i}]";
            if (s.Structure is not null)
            {
                StructuredPruning.Validate(s, at, d, Check, Require);
                continue;
            }
            foreach (var (key, set) in new[] { ("ratio", s.Ratio is not null), ("round_to", s.RoundTo != 1), ("max_ratio", s.MaxRatio != 0.9), ("global", s.Global), ("ignore", s.Ignore is not null),
                ("approximate", s.Approximate), ("ffn_ratio", s.FfnRatio is not null), ("hidden_ratio", s.HiddenRatio is not null), ("steps", s.Steps is not null),
                ("calibration", s.Calibration is not null), ("aggregate", s.Aggregate is not null), ("include_readers", s.IncludeReaders), ("blocks", s.Blocks is not null) })
                Require($"{at}.{key}", !set, $"{at}.{key} applies to structured stages (structure: channel, head or block); an unstructured stage takes sparsity, granularity, scope, schedule, exclude and first_last");
            Check($"{at}.method", () => UnstructuredPruning.CheckData(PruningParts.Criterion(s.Method, d.Seed, $"{at}.method"), d.Data is not null, r.Epochs, "data", $"{at}.method", "recovery.epochs"),
                PruningParts.Methods, s.Method);
            Check($"{at}.schedule", () =>
            {
                int rounds = PruningParts.Rounds(s.Schedule, $"{at}.schedule");
                if (rounds == 0 && r.Epochs == 0) throw new ArgumentException($"{at}.schedule gradual prunes during fine-tuning: give recovery.epochs and data");
                if (r.Kind == "distill" && rounds != 1) throw new ArgumentException($"{at}.schedule: distillation follows one-shot pruning; {s.Schedule} fine-tunes on labels (recovery.kind finetune)");
            }, new[] { "oneshot", "gradual" }, s.Schedule);
            Require($"{at}.first_last", s.FirstLast is null or "keep" or "prune", $"{at}.first_last '{s.FirstLast}' is not keep or prune");
            Check($"{at}.granularity", () => PruningParts.Granularity(s.Granularity, $"{at}.granularity"), new[] { "element", "kernel", "pattern", "2:4" }, s.Granularity);
            if (s.Sparsity is { } given) Require($"{at}.sparsity", given is >= 0 and < 1, $"{at}.sparsity must be in [0, 1), got {given}");
            else Check($"{at}.sparsity", () =>
            {
                if (PruningParts.Granularity(s.Granularity, $"{at}.granularity") is not Pruning.Granularity.PatternGranularity)
                    throw new ArgumentException($"{at}.sparsity is required for {s.Granularity} granularity");
            });
            Check($"{at}.scope", () => PruningParts.Allocation(s.Scope, $"{at}.scope"), PruningParts.Scopes, s.Scope);
        }
        return problems;
    }

    /// <summary>What <paramref name="parse"/> reads, or null where it refuses the value (a problem reported elsewhere).</summary>
    internal static T? Parses<T>(Func<T> parse) where T : class
    {
        try
        {
            return parse();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    static readonly string[] KnownData = { DataLocations.FashionMnist, DataLocations.Mnist, DataLocations.Cifar10 };

    static readonly string[] RecoveryKinds = { "finetune", "distill", "none" };

    /// <summary>
    /// The preprocessing fed to <paramref name="model"/> (read from <paramref name="source"/>): data.normalize (or
    /// inputs.normalize without data), else the model's metadata, else none; checked against what <paramref name="export"/> asks.
    /// </summary>
    internal static Preprocessing Input(string source, DataDescription? data, InputsDescription? inputs, ExportDescription? export, GraphModule model)
    {
        var fromModel = Preprocessing.FromMetadata(model.Graph.Metadata, source);
        Preprocessing fed;
        if ((data?.Normalize ?? inputs?.Normalize) is { } text)
        {
            string field = data?.Normalize is null ? "inputs.normalize" : "data.normalize";
            if (fromModel is { InModel: true } inside)
                throw new ArgumentException($"{field}: the model normalises its input itself ({inside.Describe()}); leave {field} out");
            fed = Preprocessing.ParseNormalize(text, field);
        }
        else if (fromModel is not null) fed = fromModel;
        else fed = Sources.DefaultPreprocessing(model);
        if (export is { KeepOpset: true }) AtSourceOpset(model.Graph);
        if (export is { EmbedPreprocessing: true } && fed is not { Normalization: not null, InModel: false })
            throw new ArgumentException($"export.embed_preprocessing needs the normalisation: give {(data is null ? "inputs" : "data")}.normalize MEAN/STD");
        return data?.Crop is null ? fed : fed with { Resize = data.Resize, Crop = data.Crop };
    }

    /// <summary>The trainer settings of <paramref name="recovery"/> over <paramref name="examples"/> examples.</summary>
    internal static TrainerOptions FineTune(RecoveryDescription recovery, long seed, int examples)
    {
        if (recovery.BatchSize <= 0) throw new ArgumentException($"recovery.batch_size must be positive, got {recovery.BatchSize}");
        if (!(recovery.LearningRate > 0)) throw new ArgumentException($"recovery.lr must be positive, got {recovery.LearningRate}");
        var kind = TrainingParts.Optimizer(recovery.Optimizer, "recovery.optimizer");
        long steps = Math.Max(1, (long)recovery.Epochs * ((examples + recovery.BatchSize - 1) / recovery.BatchSize));
        return new TrainerOptions
        {
            Epochs = recovery.Epochs,
            BatchSize = recovery.BatchSize,
            Seed = seed,
            Optimizer = new OptimizerSettings(kind, kind == OptimizerKind.Sgd ? recovery.Momentum : 0, WeightDecay: recovery.WeightDecay),
            Schedule = TrainingParts.Schedule(recovery.LearningRateSchedule, recovery.LearningRate, steps, "recovery.lr_schedule"),
            Threads = recovery.Threads,
            Trainable = new TrainableParameters { Freeze = recovery.Freeze ?? Array.Empty<string>(), TrainOnly = recovery.TrainOnly ?? Array.Empty<string>() },
        };
    }
}
