using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Files;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.AtInit;
using PruneSharp.Pruning.DynamicSparsity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Pruning.Regularization;
using PruneSharp.Runs;
using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>What a training run did.</summary>
/// <param name="Description">The run.</param>
/// <param name="Output">The model written (full path).</param>
/// <param name="Checkpoint">The checkpoint file (full path).</param>
/// <param name="Options">The trainer settings it ran with.</param>
/// <param name="Training">Where training ended and each epoch run now.</param>
public sealed record TrainingRunResult(TrainingDescription Description, string Output, string Checkpoint, TrainerOptions Options, TrainingResult Training)
{
    /// <summary>Test metrics of the trained classifier (null for a language model).</summary>
    public ClassificationMetrics? Test { get; init; }

    /// <summary>What the data pipeline fed the classifier (null for a language model).</summary>
    public Preprocessing? Input { get; init; }

    /// <summary>The preprocessing the written classifier takes (that of <see cref="Input"/>, or none once embedded as nodes).</summary>
    public Preprocessing? Written { get; init; }

    /// <summary>The parameters trained and those frozen (null for a language model).</summary>
    public TrainableSelection? Trainable { get; init; }

    /// <summary>What pruning at initialisation did (null: not asked for).</summary>
    public AtInitResult? AtInit { get; init; }

    /// <summary>What the sparse-training methods did (null: none asked for).</summary>
    public SparseTrainingSummary? Sparse { get; init; }

    /// <summary>Every parameter's size and non-zeros after training (null for a language model).</summary>
    public IReadOnlyList<ParameterSparsity>? Layers { get; init; }

    /// <summary>A language model's held-out perplexity (null for a classifier).</summary>
    public PerplexityResult? HeldOut { get; init; }

    /// <summary>A language model's training tokens.</summary>
    public long? TrainTokens { get; init; }

    /// <summary>A language model's training throughput over the epochs run now, in tokens per second.</summary>
    public double? TokensPerSecond { get; init; }
}

/// <summary>
/// Training stopped by its cancellation token between batches; the checkpoint holds where it stopped, and
/// <see cref="TrainingDescription.Resume"/> continues from it. Nothing else was written.
/// </summary>
/// <param name="position">Where training stopped.</param>
/// <param name="checkpoint">The checkpoint written.</param>
public sealed class TrainingInterruptedException(TrainingPosition position, string checkpoint)
    : OperationCanceledException($"interrupted at epoch {position.Epoch + 1}, batch {position.Batch}; checkpoint saved to {checkpoint}")
{
    /// <summary>Where training stopped.</summary>
    public TrainingPosition Position { get; } = position;

    /// <summary>The checkpoint written.</summary>
    public string Checkpoint { get; } = checkpoint;
}

/// <summary>
/// Runs a <see cref="TrainingDescription"/>: checks it, loads the data and the model, prunes at initialisation if
/// asked, trains (checkpointing every epoch, resuming if asked, with the sparse-training callbacks), evaluates, writes
/// the model and records the run (each epoch's end as a step; test metrics and sparsity, or perplexity, as the outcome).
/// </summary>
public static class TrainingPipeline
{
    /// <summary>The at-init methods by name.</summary>
    public static IReadOnlyList<string> AtInitMethods { get; } = ["snip", "iterative-snip", "grasp", "synflow", "magnitude", "random"];

    /// <summary>The method a run of <paramref name="d"/> is recorded under: at-init:M, sparse-training:M, network-surgery, soft-filter-pruning, regularize:K or dense.</summary>
    public static string Method(TrainingDescription d) =>
        d.AtInit is { } a ? $"at-init:{a.Method}"
        : d.DynamicSparsity is { } s ? $"sparse-training:{s.Method}"
        : d.Surgery is not null ? "network-surgery"
        : d.SoftFilterPruning is not null ? "soft-filter-pruning"
        : d.Regularize is { } r ? $"regularize:{r.Kind}"
        : "dense";

    /// <summary>True if <paramref name="d"/> trains a language model (its data is a text file).</summary>
    public static bool IsLanguageModel(TrainingDescription d) => Sources.IsText(d.Data.Source);

    /// <summary>
    /// Every problem of <paramref name="d"/> that shows without loading data or a model, each naming its field as a
    /// recipe writes it (<c>training.at_init.method</c>, <c>recovery.lr</c>, ...), with the nearest valid names for a mistyped one.
    /// </summary>
    public static IReadOnlyList<PipelineProblem> Validate(TrainingDescription d)
    {
        var problems = new ProblemList();
        void Check(string field, Action check, IEnumerable<string>? names = null, string? given = null) => problems.Check(field, check, names, given);
        void Require(string field, bool ok, string message) => problems.Require(field, ok, message);
        static string N(double value) => value.ToString(CultureInfo.InvariantCulture);

        foreach (var (key, set) in new[] { ("tokenizer", d.Data.Tokenizer is not null), ("context", d.Data.Context is not null), ("held_out", d.Data.HeldOut is not null) })
            Require($"data.{key}", !set, $"data.{key} describes the text a pipeline prunes on; a training recipe sizes its language model with training.text.{key}");
        bool text = IsLanguageModel(d);
        if (text)
        {
            var data = d.Data;
            foreach (var (key, set) in new[] { ("normalize", data.Normalize is not null), ("resize", data.Resize is not null), ("crop", data.Crop is not null),
                ("augment", data.Augment is not null), ("train_examples", data.TrainExamples is not null), ("test_examples", data.TestExamples is not null) })
                Require($"data.{key}", !set, $"data.{key} applies to image data, not to a text file (a language model)");
            Require("export.embed_preprocessing", !d.Export.EmbedPreprocessing, "export.embed_preprocessing applies to image data, not to a text file (a language model)");
            Require("export.keep_opset", !d.Export.KeepOpset, "export.keep_opset applies to image models; a language model is written at the opset it is read at or upgraded to");
            Require("training.at_init", d.AtInit is null, "training.at_init prunes image classifiers; it is not supported for a language model (a text file)");
            Require("training.regularize", d.Regularize is null && d.DynamicSparsity is null && d.SoftFilterPruning is null && d.Surgery is null,
                "training.regularize, training.sparse_training, training.soft_filter_pruning and training.network_surgery apply to image classifiers, not to a text file");
            var t = d.Text ?? new TextModelDescription();
            Require("training.text.context", t.Context >= 2, $"training.text.context must be at least 2 tokens, got {t.Context}");
            Require("training.text.held_out", t.HeldOut is > 0 and < 1, $"training.text.held_out must be in (0, 1), got {N(t.HeldOut)}");
            Require("training.text.layers", t.Layers >= 1 && t.Heads >= 1 && t.Width >= 1,
                $"training.text.layers, training.text.heads and training.text.width must be positive, got {t.Layers}, {t.Heads}, {t.Width}");
            Require("training.text.width", t.Heads < 1 || t.Width % t.Heads == 0, $"training.text.width {t.Width} is not a multiple of training.text.heads {t.Heads}");
            Require("model", File.Exists(d.Model) || d.Model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || d.Model.Equals("tiny-gpt", StringComparison.OrdinalIgnoreCase),
                $"model '{d.Model}' is neither an ONNX file nor a zoo language model (tiny-gpt); text data needs a language model");
            // The recovery settings' checks are the pipeline's.
            foreach (var problem in Pipeline.Validate(new PipelineDescription(d.Model, null, [new StageDescription("magnitude", 0)], d.Training with { Epochs = 0 }, null, d.Seed)))
                if (problem.Field.StartsWith("recovery.", StringComparison.Ordinal)) problems.Add(problem);
        }
        else
        {
            Require("training.text", d.Text is null, "training.text sizes a language model; it applies to a text file (data.source FILE.txt)");
            // The model's, data's and recovery's checks are the pipeline's (a known model, data set or folder, normalisation, sizes, augmentation, optimizer, schedule).
            foreach (var problem in Pipeline.Validate(new PipelineDescription(d.Model, d.Data, [new StageDescription("magnitude", 0)], d.Training, d.Export, d.Seed)))
                if (problem.Field is "model" || problem.Field.StartsWith("data.", StringComparison.Ordinal) || problem.Field.StartsWith("recovery.", StringComparison.Ordinal)) problems.Add(problem);
        }
        Require("recovery.kind", d.Training.Kind == "finetune", $"recovery.kind {d.Training.Kind}: training learns from labels or the text's next tokens (finetune)");
        Require("export.path", d.Export.Path.Length > 0, "export.path is required (where the trained model is written)");

        if (d.AtInit is { } a)
        {
            Check("training.at_init.method", () => AtInit(a.Method), AtInitMethods, a.Method);
            Require("training.at_init.sparsity", a.Sparsity is >= 0 and < 1, $"training.at_init.sparsity must be in [0, 1), got {N(a.Sparsity)}");
            Require("training.at_init.batches", a.Batches >= 1, $"training.at_init.batches must be at least 1, got {a.Batches}");
            Require("training.at_init.rounds", a.Rounds is null or >= 1, $"training.at_init.rounds must be at least 1, got {a.Rounds}");
            Check("training.at_init.scope", () => AtInitScope(a.Scope), ["global", "local", "erk"], a.Scope);
            Require("training.at_init", d.DynamicSparsity is null && d.Surgery is null,
                "training.at_init fixes the mask before training; training.sparse_training and training.network_surgery change it while training: choose one");
        }
        Require("training.sparse_training", (d.DynamicSparsity is null ? 0 : 1) + (d.SoftFilterPruning is null ? 0 : 1) + (d.Surgery is null ? 0 : 1) <= 1,
            "training.sparse_training, training.soft_filter_pruning and training.network_surgery exclude each other: choose one");
        if (d.Regularize is { } r)
        {
            Check("training.regularize.kind", () => PenaltyKind(r.Kind), ["l1", "group-lasso", "bn-scale"], r.Kind);
            Require("training.regularize.penalty", r.Penalty >= 0, $"training.regularize.penalty must be at least 0, got {N(r.Penalty)}");
            Require("training.regularize.warmup", r.Warmup >= 0, $"training.regularize.warmup must be at least 0, got {N(r.Warmup)}");
            Require("training.regularize.group", r.Group is null || r.Kind.Equals("group-lasso", StringComparison.OrdinalIgnoreCase), "training.regularize.group applies to training.regularize.kind group-lasso");
            Check("training.regularize.group", () => Group(r.Group), ["filter", "channel"], r.Group);
        }
        if (d.DynamicSparsity is { } s)
        {
            Check("training.sparse_training.method", () => Regrowth(s.Method), ["rigl", "set"], s.Method);
            Require("training.sparse_training.sparsity", s.Sparsity is >= 0 and < 1, $"training.sparse_training.sparsity must be in [0, 1), got {N(s.Sparsity)}");
            Require("training.sparse_training.update_every", s.UpdateEvery >= 1, $"training.sparse_training.update_every must be at least 1, got {s.UpdateEvery}");
            Require("training.sparse_training.drop_fraction", s.DropFraction is >= 0 and <= 1, $"training.sparse_training.drop_fraction must be in [0, 1], got {N(s.DropFraction)}");
        }
        if (d.SoftFilterPruning is { } rate)
            Require("training.soft_filter_pruning", rate is >= 0 and < 1, $"training.soft_filter_pruning must be in [0, 1), got {N(rate)}");
        if (d.Surgery is { } g)
        {
            Require("training.network_surgery.sparsity", g.Sparsity is >= 0 and < 1, $"training.network_surgery.sparsity must be in [0, 1), got {N(g.Sparsity)}");
            Require("training.network_surgery.gamma", g.Gamma >= 0, $"training.network_surgery.gamma must be at least 0, got {N(g.Gamma)}");
            Require("training.network_surgery.power", g.Power >= 0, $"training.network_surgery.power must be at least 0, got {N(g.Power)}");
            Require("training.network_surgery.stop", g.Stop is null or > 0, $"training.network_surgery.stop must be positive, got {g.Stop}");
        }
        return problems;
    }

    /// <summary>Runs <paramref name="description"/>.</summary>
    /// <param name="description">The training run.</param>
    /// <param name="progress">Where progress goes (training is labelled "train").</param>
    /// <param name="cancellation">Stops training between batches: the checkpoint is written and <see cref="TrainingInterruptedException"/> thrown.</param>
    /// <param name="recording">Where the run is recorded (null: nowhere).</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names the field.</exception>
    /// <exception cref="TrainingInterruptedException">Training was cancelled; the checkpoint holds where it stopped.</exception>
    public static TrainingRunResult Run(TrainingDescription description, PipelineProgress? progress = null, CancellationToken cancellation = default,
        PipelineRecording? recording = null)
    {
        progress ??= PipelineProgress.None;
        return PipelineRecording.Record(recording, recorder =>
        {
            var shown = recorder is null ? progress : PipelineRecording.Recording(progress, recorder);
            return IsLanguageModel(description) ? LanguageModel(description, shown, cancellation) : Classifier(description, shown, cancellation);
        }, Outcome);
    }

    static (string Output, string Checkpoint) Files(TrainingDescription d)
    {
        if (Validate(d) is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems.Select(p => p.ToString())));
        string output = Path.GetFullPath(d.Export.Path);
        return (output, Path.GetFullPath(d.Checkpoint ?? output + ".ckpt"));
    }

    static TrainingRunResult Classifier(TrainingDescription d, PipelineProgress progress, CancellationToken cancellation)
    {
        var (output, checkpoint) = Files(d);
        var sizes = Preprocessing.None with { Resize = d.Data.Resize, Crop = d.Data.Crop };
        var full = Sources.LoadData(d.Data.Source, DataSplit.Train, sizes, "data.source");
        full.Augmentation = d.Data.Augment is { } augment ? Augmentation.Parse(augment, "data.augment") : null;
        var fullTest = Sources.LoadData(d.Data.Source, DataSplit.Test, sizes, "data.source");
        IDataset train = d.Data.TrainExamples is { } n ? Subset.First(full, n) : full;
        IDataset test = d.Data.TestExamples is { } m ? Subset.First(fullTest, m) : fullTest;
        var options = Options(d, train.Count, checkpoint);
        using var network = Sources.LoadModel(d.Model, full, d.Seed, field: "model");
        var fed = Pipeline.Input(d.Model, d.Data, null, d.Export, network);
        foreach (var set in new[] { full, fullTest }) set.Normalization = fed.Fed ?? Normalization.None(set.Channels);
        var trainable = options.Trainable.Select(network);
        options = options with { Fingerprint = Fingerprint(d, network, train) };

        MaskSet? masks = null;
        AtInitResult? atInit = null;
        try
        {
            if (d.AtInit is { } a)
            {
                masks = new MaskSet(network);
                atInit = PruneAtInit(a, d.Seed, masks, train, options, cancellation);
                foreach (string warning in atInit.Collapse.Warnings) progress.Warning?.Report(warning);
            }
            using var plan = SparseTrainingPlan.Build(d, network, options, train.Count);
            var callbacks = masks is null ? plan.Callbacks : [new MaskedTraining(masks), .. plan.Callbacks];
            var result = Fit(d, network, options, train, checkpoint, callbacks, progress, cancellation);
            masks?.MakePermanent();
            var metrics = Evaluator.Classify(network, test);
            var written = Pipeline.Write(network, fed, d.Export, output);
            return new TrainingRunResult(d, output, checkpoint, options, result)
            {
                Test = metrics, Input = fed, Written = written, Trainable = trainable, AtInit = atInit, Sparse = plan.Summary(network),
                Layers = SparsityReport.Measure(network).Layers,
            };
        }
        finally
        {
            masks?.Dispose();
        }
    }

    static TrainingRunResult LanguageModel(TrainingDescription d, PipelineProgress progress, CancellationToken cancellation)
    {
        var (output, checkpoint) = Files(d);
        var text = d.Text ?? new TextModelDescription();
        var corpus = TextCorpus.Load(d.Data.Source, Sources.Tokenizer(text.Tokenizer, "training.text.tokenizer"), text.HeldOut);
        var train = corpus.TrainSequences(text.Context);
        var options = Options(d, train.Count, checkpoint);
        using var network = Sources.LanguageModel(d.Model, text, corpus.Tokenizer, d.Seed);
        options = options with { Fingerprint = Fingerprint(d, network, train) };
        var result = Fit(d, network, options, train, checkpoint, [], progress, cancellation);
        double seconds = result.Epochs.Sum(e => e.Elapsed.TotalSeconds);
        double tokensPerSecond = seconds > 0 ? result.Epochs.Sum(e => e.Samples) * (double)text.Context / seconds : double.NaN;
        var perplexity = Evaluator.Perplexity(network, corpus.HeldOutTokens, text.Context);
        OnnxFile.Save(network, output);
        return new TrainingRunResult(d, output, checkpoint, options, result)
        {
            HeldOut = perplexity, TrainTokens = corpus.TrainTokens.Length, TokensPerSecond = tokensPerSecond,
        };
    }

    /// <summary>The trainer settings of <paramref name="d"/> over <paramref name="examples"/> examples, checkpointing to <paramref name="checkpoint"/>.</summary>
    static TrainerOptions Options(TrainingDescription d, int examples, string checkpoint)
    {
        var options = Pipeline.FineTune(d.Training, d.Seed, examples) with { CheckpointPath = checkpoint };
        options.Validate();
        return options;
    }

    /// <summary>
    /// What determines the run's results: <see cref="TrainingDescription.Identity"/> (else the description, where it is
    /// written and resumed from left out), the hash of the model's initial weights and of the training data.
    /// </summary>
    static RunFingerprint Fingerprint(TrainingDescription d, GraphModule network, IDataset train) =>
        new RunFingerprint(d.Identity.Count > 0 ? d.Identity
            : new Dictionary<string, string> { ["description"] = JsonSerializer.Serialize(d with { Export = d.Export with { Path = "" } }) })
            .With("model.hash", RunFingerprint.Hash(network)).With("data.hash", RunFingerprint.Hash(train));

    /// <summary>Trains <paramref name="network"/>, resuming from the checkpoint if asked; throws <see cref="TrainingInterruptedException"/> once a cancellation has saved a checkpoint.</summary>
    static TrainingResult Fit(TrainingDescription d, GraphModule network, TrainerOptions options, IDataset train, string checkpoint,
        IEnumerable<ITrainingCallback> callbacks, PipelineProgress progress, CancellationToken cancellation)
    {
        using var trainer = new Trainer(network, options) { Progress = progress.For("train") };
        foreach (var callback in callbacks) trainer.Callbacks.Add(callback);
        if (d.Resume)
        {
            if (!File.Exists(checkpoint)) throw new ArgumentException($"training.resume: no checkpoint at {checkpoint}");
            trainer.LoadCheckpoint(checkpoint);
            progress.Status?.Report($"resuming from {checkpoint} at epoch {trainer.Position.Epoch + 1}, batch {trainer.Position.Batch}");
        }
        var result = trainer.Fit(train, cancellation);
        if (result.Cancelled) throw new TrainingInterruptedException(result.Position, checkpoint);
        return result;
    }

    /// <summary>
    /// Prunes the model of <paramref name="masks"/> at its initial weights on the first <see cref="AtInitDescription.Batches"/>
    /// batches of epoch 0 (unaugmented); training then keeps the masks.
    /// </summary>
    static AtInitResult PruneAtInit(AtInitDescription a, long seed, MaskSet masks, IDataset train, TrainerOptions training, CancellationToken cancellation)
    {
        var options = new AtInitOptions
        {
            Method = AtInit(a.Method), Sparsity = a.Sparsity, Rounds = a.Rounds, Seed = seed,
            Scope = new PruningScope { Allocation = AtInitScope(a.Scope) },
        };
        var plan = new BatchPlan(training.BatchSize, Shuffle: true, Seed: training.Seed);
        var batches = plan.Batches(train, 0, augment: false).Take(a.Batches).ToList();
        try
        {
            return PruningAtInitialization.Prune(masks, options, batches, cancellation);
        }
        finally
        {
            foreach (var batch in batches) batch.Dispose();
        }
    }

    /// <summary>The run's outcome: test metrics and sparsity with the model and checkpoint, or held-out perplexity and throughput.</summary>
    static RunOutcome Outcome(TrainingRunResult r) => r.HeldOut is { } perplexity
        ? RunMetrics.Outcome([.. RunMetrics.Quality(null, perplexityAfter: perplexity), new("tokens_per_s", r.TokensPerSecond)], null, [("model", r.Output), ("checkpoint", r.Checkpoint)])
        : RunMetrics.Outcome([.. RunMetrics.Quality(r.Test), .. RunMetrics.Size(r.Layers!)], r.Layers, [("model", r.Output), ("checkpoint", r.Checkpoint)]);

    static AtInitMethod AtInit(string name) => name.ToLowerInvariant() switch
    {
        "snip" => AtInitMethod.Snip,
        "iterative-snip" => AtInitMethod.IterativeSnip,
        "grasp" => AtInitMethod.Grasp,
        "synflow" => AtInitMethod.SynFlow,
        "magnitude" => AtInitMethod.Magnitude,
        "random" => AtInitMethod.Random,
        _ => throw new ArgumentException($"training.at_init.method '{name}' is not one of {string.Join(", ", AtInitMethods)}"),
    };

    static Pruning.Allocation.Allocation AtInitScope(string name) => name.ToLowerInvariant() switch
    {
        "global" => Pruning.Allocation.Allocation.Global,
        "local" => Pruning.Allocation.Allocation.Local,
        "erk" => Pruning.Allocation.Allocation.Erk,
        _ => throw new ArgumentException($"training.at_init.scope '{name}' is not one of global, local, erk"),
    };

    internal static PenaltyKind PenaltyKind(string name) => name.ToLowerInvariant() switch
    {
        "l1" => Pruning.Regularization.PenaltyKind.L1,
        "group-lasso" => Pruning.Regularization.PenaltyKind.GroupLasso,
        "bn-scale" => Pruning.Regularization.PenaltyKind.BatchNormScale,
        _ => throw new ArgumentException($"training.regularize.kind '{name}' is not one of l1, group-lasso, bn-scale"),
    };

    internal static LassoGroup Group(string? name) => name?.ToLowerInvariant() switch
    {
        null or "filter" => LassoGroup.Filter,
        "channel" => LassoGroup.Channel,
        _ => throw new ArgumentException($"training.regularize.group '{name}' is not filter or channel"),
    };

    internal static RegrowthRule Regrowth(string name) => name.ToLowerInvariant() switch
    {
        "rigl" => RegrowthRule.Gradient,
        "set" => RegrowthRule.Random,
        _ => throw new ArgumentException($"training.sparse_training.method '{name}' is not rigl or set"),
    };
}
