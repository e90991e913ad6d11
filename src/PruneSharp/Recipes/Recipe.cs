using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Models;
using PruneSharp.Pipelines;

namespace PruneSharp.Recipes;

/// <summary>
/// A recipe: a YAML file that describes a whole pipeline (model, data, pruning stages, recovery, evaluation,
/// export), read into a <see cref="PipelineDescription"/>. Reading reports every problem at once, each with file,
/// line and column and, for a mistyped name or key, the nearest valid ones. Relative paths are read from the folder
/// of the file that wrote them (the working folder for <c>--set</c>).
/// </summary>
/// <param name="Source">The recipe file.</param>
/// <param name="Pipeline">The pipeline it describes, overrides applied (for a Lottery Ticket recipe: its model, data, seed and training).</param>
public sealed record Recipe(string Source, PipelineDescription Pipeline)
{
    /// <summary>The Lottery Ticket experiment a recipe with a <c>lottery</c> section describes instead of pruning stages (null for a pipeline).</summary>
    public LotteryTicketDescription? Lottery { get; init; }

    /// <summary>The training run a recipe with a <c>training</c> section describes instead of pruning stages (null for a pipeline).</summary>
    public TrainingDescription? Training { get; init; }

    /// <summary>The checkpoint prune a recipe with an <c>llm</c> section describes (null for a pipeline, or for <c>llm.method: shortgpt</c>).</summary>
    public LlmPruningDescription? Llm { get; init; }

    /// <summary>The layer removal a recipe with an <c>llm</c> section and <c>llm.method: shortgpt</c> describes (null otherwise).</summary>
    public LlmDepthDescription? LlmDepth { get; init; }

    /// <summary>The perplexity measurement a recipe with an <c>evaluation</c> section describes (null otherwise).</summary>
    public LlmEvaluationDescription? Evaluation { get; init; }

    /// <summary>The comparison study a recipe with a <c>comparison</c> section describes: a dense model and pruned variants of it (null otherwise).</summary>
    public ComparisonDescription? Comparison { get; init; }

    /// <summary>Reads the recipe at <paramref name="path"/> with <paramref name="overrides"/> applied in order.</summary>
    /// <exception cref="RecipeException">The recipe has problems; all of them are listed.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static Recipe Load(string path, IEnumerable<RecipeOverride>? overrides = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"recipe '{path}' does not exist", path);
        // Read at most one byte past the limit: a device or a huge file is refused without being read whole.
        var bytes = new byte[MaxBytes + 1];
        int length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None))
            length = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (length > MaxBytes)
            throw new RecipeException(new[] { new RecipeProblem(new SourcePosition(path, 1, 1), $"longer than {MaxBytes >> 20} MiB; a recipe is a short YAML file") });
        using var reader = new StreamReader(new MemoryStream(bytes, 0, length), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(reader.ReadToEnd(), path, overrides);
    }

    /// <summary>The longest recipe file read, in bytes.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Reads a recipe from <paramref name="text"/>, written in the file <paramref name="path"/>.</summary>
    /// <exception cref="RecipeException">The recipe has problems; all of them are listed.</exception>
    public static Recipe Parse(string text, string path, IEnumerable<RecipeOverride>? overrides = null)
    {
        var root = RecipeNode.Parse(text, path);
        if (root is not MappingNode map)
            throw new RecipeException(new[] { new RecipeProblem(root.Position, "a recipe is a mapping of model, data, stages, recovery, evaluate, export") });
        foreach (var o in overrides ?? Array.Empty<RecipeOverride>()) o.Apply(map);
        var binder = new RecipeBinder();
        var description = binder.Bind(map);
        var lottery = binder.Lottery(map, description);
        var training = binder.Training(map, description);
        var (llm, depth) = binder.Llm(map, description);
        var evaluation = binder.Evaluation(map, description, afterPrune: llm is not null || depth is not null);
        if (evaluation is not null && (llm is not null || depth is not null))
        {
            // The checkpoint the prune writes is evaluated in the same run.
            (llm, depth) = (llm is null ? null : llm with { Evaluation = evaluation }, depth is null ? null : depth with { Evaluation = evaluation });
            evaluation = null;
        }
        var comparison = binder.Comparison(map, description);
        bool anyLlm = llm is not null || depth is not null;
        if ((lottery is null ? 0 : 1) + (training is null ? 0 : 1) + (anyLlm ? 1 : 0) + (evaluation is null ? 0 : 1) + (comparison is null ? 0 : 1) > 1)
            binder.Problems.Add(new RecipeProblem(binder.PositionOf(comparison is not null ? "comparison" : evaluation is not null ? "evaluation" : anyLlm ? "llm" : "training"),
                "a recipe holds at most one of lottery, training, llm, evaluation and comparison (or llm and evaluation: the checkpoint it writes is evaluated)"));
        var checks = comparison is not null ? ComparisonPipeline.Validate(comparison)
            : llm is not null ? LlmPruningPipeline.Validate(llm)
            : depth is not null ? LlmDepthPipeline.Validate(depth)
            : evaluation is not null ? LlmEvaluationPipeline.Validate(evaluation)
            : training is not null ? TrainingPipeline.Validate(training)
            : lottery is not null ? LotteryTicketPipeline.Validate(lottery) : PruneSharp.Pipelines.Pipeline.Validate(description);
        foreach (var problem in checks.Where(p => !binder.Broken.Contains(p.Field)))
            binder.Problems.Add(new RecipeProblem(binder.PositionOf(problem.Field), problem.Message, problem.Suggestions));
        if (binder.Problems.Count > 0)
            throw new RecipeException(binder.Problems.OrderBy(p => p.Position.File != path).ThenBy(p => p.Position.Line).ThenBy(p => p.Position.Column).ToList());
        return new Recipe(path, description) { Lottery = lottery, Training = training, Llm = llm, LlmDepth = depth, Evaluation = evaluation, Comparison = comparison };
    }

    /// <summary>
    /// The pipeline as canonical JSON, without where it is exported: two recipes that run the same pipeline with the
    /// same seed have the same text (and <see cref="Identity"/>), however they were written.
    /// </summary>
    public string Canonical => Comparison is { } comparison ? JsonSerializer.Serialize(comparison with { Folder = "", Report = null }, CanonicalJson)
        : Llm is { } llm ? JsonSerializer.Serialize(llm with { Output = "", Replace = false, Evaluation = llm.Evaluation is { } scored ? scored with { Checkpoint = "" } : null }, CanonicalJson)
        : LlmDepth is { } depth ? JsonSerializer.Serialize(depth with { Output = "", Replace = false, Evaluation = depth.Evaluation is { } measured ? measured with { Checkpoint = "" } : null }, CanonicalJson)
        : Evaluation is { } evaluation ? JsonSerializer.Serialize(evaluation, CanonicalJson)
        : Training is { } training ? JsonSerializer.Serialize(training with { Export = training.Export with { Path = "" } }, CanonicalJson)
        : Lottery is { } lottery ? JsonSerializer.Serialize(lottery with { Folder = "" }, CanonicalJson)
        : JsonSerializer.Serialize(Pipeline with { Export = Pipeline.Export is { } e ? e with { Path = "" } : null }, CanonicalJson);

    /// <summary>A short hash of <see cref="Canonical"/> (the first 16 hex digits of its SHA-256).</summary>
    public string Identity => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical)))[..16];

    static readonly JsonSerializerOptions CanonicalJson = new() { WriteIndented = false };
}

/// <summary>Turns the nodes of a recipe into a <see cref="PipelineDescription"/>, collecting every problem and where each field was written.</summary>
sealed class RecipeBinder
{
    public List<RecipeProblem> Problems { get; } = new();

    readonly Dictionary<string, SourcePosition> _fields = new();

    /// <summary>Fields whose value could not be read (reported once, not again by the pipeline's checks).</summary>
    public HashSet<string> Broken { get; } = new();

    /// <summary>Where <paramref name="field"/> was written; for a field left out, where its section (or the file) starts.</summary>
    public SourcePosition PositionOf(string field)
    {
        for (string f = field; ; f = f[..f.LastIndexOfAny(new[] { '.', '[' })])
        {
            if (_fields.TryGetValue(f, out var at)) return at;
            if (f.LastIndexOfAny(new[] { '.', '[' }) < 0) return _fields[""];
        }
    }

    public PipelineDescription Bind(MappingNode root)
    {
        _fields[""] = root.Position;
        Keys(root, "", RecipeSchema.Top);
        string? model = Path(root, "model", "model", keepNames: ModelZoo.IsClassifier);
        if (model is null && root["model"] is null) Problem(root.Position, "model is required (an ONNX file or a zoo classifier name)", field: "model");
        long seed = Number(root, "seed", "seed", long.Parse) ?? 0;
        bool evaluate = true;
        LatencyDescription? latency = null;
        if (root["evaluate"] is MappingNode)
        {
            var v = Section(root, "evaluate", "evaluate", RecipeSchema.Evaluate)!;
            evaluate = Flag(v, "accuracy", "evaluate.accuracy") ?? true;
            var timing = new LatencyDescription();
            int? threads = Number(v, "threads", "evaluate.threads", int.Parse), rounds = Number(v, "rounds", "evaluate.rounds", int.Parse);
            if (Flag(v, "latency", "evaluate.latency") == true) latency = new LatencyDescription(threads ?? timing.Threads, rounds ?? timing.Rounds);
            else if (threads is not null || rounds is not null)
                Problem(v.Position, "evaluate.threads and evaluate.rounds set how latency is timed: give evaluate.latency: true", field: "evaluate.latency");
        }
        else evaluate = Flag(root, "evaluate", "evaluate") ?? true;

        DataDescription? data = null;
        if (Section(root, "data", "data", RecipeSchema.Data) is { } d)
        {
            string? source = Path(d, "source", "data.source", keepNames: n => n.ToLowerInvariant() is DataLocations.FashionMnist or DataLocations.Mnist or DataLocations.Cifar10);
            if (source is null && d["source"] is null) Problem(d.Position, "data.source is required (a data set name or folder)", field: "data.source");
            data = new DataDescription(source ?? "", Number(d, "train_examples", "data.train_examples", int.Parse), Number(d, "test_examples", "data.test_examples", int.Parse),
                Text(d, "normalize", "data.normalize"), Number(d, "resize", "data.resize", int.Parse), Number(d, "crop", "data.crop", int.Parse), Text(d, "augment", "data.augment"),
                Tokenizer(d), Number(d, "context", "data.context", int.Parse) is { } context and not DataDescription.DefaultContext ? context : null,
                Number(d, "held_out", "data.held_out", double.Parse) is { } heldOut and not DataDescription.DefaultHeldOut ? heldOut : null);
        }

        var stages = Stages(root, "stages");

        var recovery = Section(root, "recovery", "recovery", RecipeSchema.Recovery) is { } r ? Recovery(r, "recovery") : new RecoveryDescription();

        ExportDescription? export = null;
        if (Section(root, "export", "export", RecipeSchema.Export) is { } e)
        {
            string? path = Path(e, "path", "export.path", keepNames: _ => false);
            if (path is null && e["path"] is null) Problem(e.Position, "export.path is required (the ONNX file to write)", field: "export.path");
            export = new ExportDescription(path ?? "", Flag(e, "embed_preprocessing", "export.embed_preprocessing") ?? false, Flag(e, "keep_opset", "export.keep_opset") ?? false);
        }

        InputsDescription? inputs = null;
        if (Section(root, "inputs", "inputs", RecipeSchema.Inputs) is { } given)
        {
            var tensors = Strings(given, "tensors", "inputs.tensors")?.Select(t => InputTensor(t, given.Position.File)).ToList();
            inputs = new InputsDescription(Strings(given, "shape", "inputs.shape"), tensors, Text(given, "normalize", "inputs.normalize"));
        }
        return new PipelineDescription(model ?? "", data, stages, recovery, export, seed, evaluate, latency, inputs);
    }

    /// <summary>The pruning stages listed under <c>stages</c> in <paramref name="parent"/>, each field named under <paramref name="field"/> (<c>stages[0].method</c>).</summary>
    List<StageDescription> Stages(MappingNode parent, string field)
    {
        var stages = new List<StageDescription>();
        if (parent["stages"] is SequenceNode list)
        {
            _fields[field] = list.Position;
            for (int i = 0; i < list.Items.Count; i++)
            {
                string at = $"{field}[{i}]";
                if (!Mapping(list.Items[i], at, RecipeSchema.Stage, out var s)) continue;
                string? method = Text(s, "method", $"{at}.method");
                if (method is null) Problem(s.Position, $"{at}.method is required ({string.Join(", ", PruningParts.Methods)}; with structure channel or head: {string.Join(", ", StructuredParts.Methods)}; block: {string.Join(", ", StructuredPruning.BlockMethods)})", field: $"{at}.method");
                stages.Add(new StageDescription(method ?? "", Number(s, "sparsity", $"{at}.sparsity", double.Parse),
                    Text(s, "granularity", $"{at}.granularity") ?? "element", Text(s, "scope", $"{at}.scope") ?? "local", Text(s, "schedule", $"{at}.schedule") ?? "oneshot",
                    Strings(s, "exclude", $"{at}.exclude"), Text(s, "first_last", $"{at}.first_last"), Flag(s, "prune_embeddings", $"{at}.prune_embeddings") ?? false,
                    Flag(s, "strict", $"{at}.strict") ?? false, Text(s, "structure", $"{at}.structure"), Number(s, "ratio", $"{at}.ratio", double.Parse),
                    Number(s, "round_to", $"{at}.round_to", int.Parse) ?? 1, Number(s, "max_ratio", $"{at}.max_ratio", double.Parse) ?? 0.9,
                    Flag(s, "global", $"{at}.global") ?? false, Strings(s, "ignore", $"{at}.ignore"), Flag(s, "approximate", $"{at}.approximate") ?? false,
                    Number(s, "ffn_ratio", $"{at}.ffn_ratio", double.Parse), Number(s, "hidden_ratio", $"{at}.hidden_ratio", double.Parse),
                    Number(s, "steps", $"{at}.steps", int.Parse), Number(s, "calibration", $"{at}.calibration", int.Parse), Text(s, "aggregate", $"{at}.aggregate"),
                    Flag(s, "include_readers", $"{at}.include_readers") ?? false, Number(s, "blocks", $"{at}.blocks", int.Parse)));
            }
        }
        else if (parent["stages"] is { } other) Problem(other.Position, $"{field} is a list of pruning stages (- method: ..., sparsity: ...)", field: field);
        return stages;
    }

    /// <summary>The recovery (or training) settings of the mapping <paramref name="r"/>, each field named under <paramref name="field"/> (<c>recovery.lr</c>); defaults for the keys left out.</summary>
    RecoveryDescription Recovery(MappingNode r, string field)
    {
        var d = new RecoveryDescription();
        return new RecoveryDescription(Text(r, "kind", $"{field}.kind") ?? d.Kind, Number(r, "epochs", $"{field}.epochs", int.Parse) ?? d.Epochs,
            Number(r, "batch_size", $"{field}.batch_size", int.Parse) ?? d.BatchSize, Text(r, "optimizer", $"{field}.optimizer") ?? d.Optimizer,
            Number(r, "lr", $"{field}.lr", double.Parse) ?? d.LearningRate, Number(r, "momentum", $"{field}.momentum", double.Parse) ?? d.Momentum,
            Number(r, "weight_decay", $"{field}.weight_decay", double.Parse) ?? d.WeightDecay, Text(r, "lr_schedule", $"{field}.lr_schedule") ?? d.LearningRateSchedule,
            Text(r, "distill_loss", $"{field}.distill_loss"), Number(r, "temperature", $"{field}.temperature", double.Parse), Strings(r, "distill_features", $"{field}.distill_features"),
            Strings(r, "freeze", $"{field}.freeze"), Strings(r, "train_only", $"{field}.train_only"), Number(r, "threads", $"{field}.threads", int.Parse));
    }

    /// <summary>The pruning at initialisation under <c>at_init</c> in <paramref name="parent"/> (null without one), each field named under <paramref name="field"/>.</summary>
    AtInitDescription? AtInit(MappingNode parent, string field)
    {
        if (Section(parent, "at_init", field, RecipeSchema.AtInit) is not { } a) return null;
        string? method = Text(a, "method", $"{field}.method");
        double? sparsity = Number(a, "sparsity", $"{field}.sparsity", double.Parse);
        if (method is null) Problem(a.Position, $"{field}.method is required ({string.Join(", ", TrainingPipeline.AtInitMethods)})", field: $"{field}.method");
        if (sparsity is null) Problem(a.Position, $"{field}.sparsity is required", field: $"{field}.sparsity");
        var defaults = new AtInitDescription("", 0);
        return new AtInitDescription(method ?? "", sparsity ?? 0, Number(a, "batches", $"{field}.batches", int.Parse) ?? defaults.Batches,
            Number(a, "rounds", $"{field}.rounds", int.Parse), Text(a, "scope", $"{field}.scope") ?? defaults.Scope);
    }

    /// <summary>
    /// The Lottery Ticket experiment of a recipe with a <c>lottery</c> section (null without one): the model, data,
    /// seed and training (<c>recovery</c>) of <paramref name="d"/>, the rounds of the section; pruning stages, export,
    /// evaluation and inputs do not apply.
    /// </summary>
    public LotteryTicketDescription? Lottery(MappingNode root, PipelineDescription d)
    {
        if (Section(root, "lottery", "lottery", RecipeSchema.Lottery) is not { } l) return null;
        NotApplicable(root, ["stages", "export", "evaluate", "inputs"], "a Lottery Ticket recipe (lottery prunes in its own rounds and keeps them in lottery.folder)");
        if (d.Data is null && root["data"] is null) Problem(l.Position, "a Lottery Ticket recipe needs data.source (labelled data to train on)", field: "data.source");
        var defaults = new LotteryTicketDescription("", new DataDescription(""), "", new RecoveryDescription());
        string? folder = Path(l, "folder", "lottery.folder", keepNames: _ => false);
        if (folder is null && l["folder"] is null) Problem(l.Position, "lottery.folder is required (where the rounds' results, masks and weights go)", field: "lottery.folder");
        return new LotteryTicketDescription(d.Model, d.Data ?? new DataDescription(""), folder ?? "", d.Recovery,
            Number(l, "rounds", "lottery.rounds", int.Parse) ?? defaults.Rounds, Number(l, "rate", "lottery.rate", double.Parse) ?? defaults.Rate,
            Text(l, "rewind", "lottery.rewind") ?? defaults.Rewind, Text(l, "retrain", "lottery.retrain") ?? defaults.Retrain, Strings(l, "variants", "lottery.variants"),
            Text(l, "scope", "lottery.scope") ?? defaults.Scope, d.Seed);
    }

    /// <summary>
    /// The training run of a recipe with a <c>training</c> section (null without one): the model, data, seed, export
    /// and training settings (<c>recovery</c>) of <paramref name="d"/>, the sparse-training methods and language-model
    /// settings of the section; pruning stages, evaluation and inputs do not apply.
    /// </summary>
    public TrainingDescription? Training(MappingNode root, PipelineDescription d)
    {
        if (Section(root, "training", "training", RecipeSchema.Training) is not { } t) return null;
        NotApplicable(root, ["stages", "evaluate", "inputs"], "a training recipe (it trains the model and writes it to export.path)");
        if (d.Data is null && root["data"] is null) Problem(t.Position, "a training recipe needs data.source (a data set, a folder or a text file)", field: "data.source");
        if (d.Export is null && root["export"] is null) Problem(t.Position, "a training recipe needs export.path (where the trained model is written)", field: "export.path");
        var atInit = AtInit(t, "training.at_init");
        RegularizationDescription? regularize = null;
        if (Section(t, "regularize", "training.regularize", RecipeSchema.Regularize) is { } r)
        {
            string? kind = Text(r, "kind", "training.regularize.kind");
            if (kind is null) Problem(r.Position, "training.regularize.kind is required (l1, group-lasso, bn-scale)", field: "training.regularize.kind");
            var defaults = new RegularizationDescription("");
            regularize = new RegularizationDescription(kind ?? "", Number(r, "penalty", "training.regularize.penalty", double.Parse) ?? defaults.Penalty,
                Number(r, "warmup", "training.regularize.warmup", double.Parse) ?? defaults.Warmup, Text(r, "group", "training.regularize.group"));
        }
        DynamicSparsityDescription? dynamic = null;
        if (Section(t, "sparse_training", "training.sparse_training", RecipeSchema.SparseTraining) is { } s)
        {
            string? method = Text(s, "method", "training.sparse_training.method");
            double? sparsity = Number(s, "sparsity", "training.sparse_training.sparsity", double.Parse);
            if (method is null) Problem(s.Position, "training.sparse_training.method is required (rigl, set)", field: "training.sparse_training.method");
            if (sparsity is null) Problem(s.Position, "training.sparse_training.sparsity is required", field: "training.sparse_training.sparsity");
            var defaults = new DynamicSparsityDescription("", 0);
            dynamic = new DynamicSparsityDescription(method ?? "", sparsity ?? 0, Number(s, "update_every", "training.sparse_training.update_every", int.Parse) ?? defaults.UpdateEvery,
                Number(s, "drop_fraction", "training.sparse_training.drop_fraction", double.Parse) ?? defaults.DropFraction);
        }
        SurgeryDescription? surgery = null;
        if (Section(t, "network_surgery", "training.network_surgery", RecipeSchema.Surgery) is { } g)
        {
            double? sparsity = Number(g, "sparsity", "training.network_surgery.sparsity", double.Parse);
            if (sparsity is null) Problem(g.Position, "training.network_surgery.sparsity is required", field: "training.network_surgery.sparsity");
            var defaults = new SurgeryDescription(0);
            surgery = new SurgeryDescription(sparsity ?? 0, Number(g, "gamma", "training.network_surgery.gamma", double.Parse) ?? defaults.Gamma,
                Number(g, "power", "training.network_surgery.power", double.Parse) ?? defaults.Power, Number(g, "stop", "training.network_surgery.stop", double.Parse));
        }
        TextModelDescription? text = null;
        if (Section(t, "text", "training.text", RecipeSchema.Text) is { } x)
        {
            var defaults = new TextModelDescription();
            text = new TextModelDescription(Number(x, "context", "training.text.context", int.Parse) ?? defaults.Context, Number(x, "layers", "training.text.layers", int.Parse) ?? defaults.Layers,
                Number(x, "heads", "training.text.heads", int.Parse) ?? defaults.Heads, Number(x, "width", "training.text.width", int.Parse) ?? defaults.Width,
                Flag(x, "untied", "training.text.untied") ?? defaults.Untied, Number(x, "held_out", "training.text.held_out", double.Parse) ?? defaults.HeldOut,
                Text(x, "tokenizer", "training.text.tokenizer") ?? defaults.Tokenizer);
        }
        return new TrainingDescription(d.Model, d.Data ?? new DataDescription(""), d.Export ?? new ExportDescription(""), d.Recovery, d.Seed)
        {
            AtInit = atInit, Regularize = regularize, DynamicSparsity = dynamic, Surgery = surgery, Text = text,
            SoftFilterPruning = Number(t, "soft_filter_pruning", "training.soft_filter_pruning", double.Parse),
            Checkpoint = Path(t, "checkpoint", "training.checkpoint", keepNames: _ => false),
            Resume = Flag(t, "resume", "training.resume") ?? false,
        };
    }

    /// <summary>
    /// The comparison study of a recipe with a <c>comparison</c> section (null without one): the dense model (trained
    /// from <c>model</c> with <c>comparison.dense</c>'s settings, or the ONNX file <c>model</c>), then each of
    /// <c>comparison.variants</c>, pruning stages with <c>recovery</c> (or the variant's own) run on it; <c>data</c>,
    /// <c>seed</c> and <c>evaluate</c> apply to every row; stages, export and inputs do not apply.
    /// </summary>
    public ComparisonDescription? Comparison(MappingNode root, PipelineDescription d)
    {
        if (Section(root, "comparison", "comparison", RecipeSchema.Comparison) is not { } c) return null;
        NotApplicable(root, ["stages", "export", "inputs"], "a comparison recipe (each of comparison.variants has its stages; the models are written to comparison.folder)");
        if (d.Data is null && root["data"] is null) Problem(c.Position, "a comparison recipe needs data.source (the data the models are trained and measured on)", field: "data.source");
        string? folder = Path(c, "folder", "comparison.folder", keepNames: _ => false);
        if (folder is null && c["folder"] is null) Problem(c.Position, "comparison.folder is required (where the models, cached rows, run store and report go)", field: "comparison.folder");
        DenseTrainingDescription? dense = null;
        if (Section(c, "dense", "comparison.dense", RecipeSchema.ComparisonDense) is { } t)
            dense = new DenseTrainingDescription(Recovery(t, "comparison.dense"), Number(t, "train_examples", "comparison.dense.train_examples", int.Parse));
        var variants = new List<ComparisonVariant>();
        if (c["variants"] is SequenceNode list)
        {
            _fields["comparison.variants"] = list.Position;
            for (int i = 0; i < list.Items.Count; i++)
            {
                string at = $"comparison.variants[{i}]";
                if (!Mapping(list.Items[i], at, RecipeSchema.ComparisonVariant, out var v)) continue;
                string? name = Text(v, "name", $"{at}.name");
                if (name is null) Problem(v.Position, $"{at}.name is required (it names the variant's files and run)", field: $"{at}.name");
                var recovery = Section(v, "recovery", $"{at}.recovery", RecipeSchema.Recovery) is { } r ? Recovery(r, $"{at}.recovery") : null;
                variants.Add(new ComparisonVariant(name ?? "", Stages(v, $"{at}.stages"), Text(v, "label", $"{at}.label"), recovery) { AtInit = AtInit(v, $"{at}.at_init") });
            }
        }
        else Problem(c["variants"]?.Position ?? c.Position, "comparison.variants is a list of variants (- name: ..., stages: [...] or at_init: {...})", field: "comparison.variants");
        return new ComparisonDescription(d.Model, d.Data ?? new DataDescription(""), d.Recovery, variants, folder ?? "", d.Seed, d.Evaluate, d.Latency)
        {
            Dense = dense, Report = Path(c, "report", "comparison.report", keepNames: _ => false), Recompute = Flag(c, "recompute", "comparison.recompute") ?? false,
        };
    }

    /// <summary>
    /// The checkpoint prune of a recipe with an <c>llm</c> section (both null without one): <c>model</c> the Hugging
    /// Face checkpoint folder, <c>export.path</c> the folder written, <c>seed</c> the calibration windows' seed, the
    /// rest in the section; data, stages, recovery, evaluation and inputs do not apply. <c>llm.method: shortgpt</c>
    /// removes whole decoder layers (<see cref="LlmDepthDescription"/>); any other method prunes weights (<see cref="LlmPruningDescription"/>).
    /// </summary>
    public (LlmPruningDescription? Prune, LlmDepthDescription? Depth) Llm(MappingNode root, PipelineDescription d)
    {
        if (Section(root, "llm", "llm", RecipeSchema.Llm) is not { } l) return default;
        NotApplicable(root, ["data", "stages", "recovery", "evaluate", "inputs"], "an llm recipe (it prunes the checkpoint in model layer by layer from llm.calibration, without training)");
        if (d.Export is null && root["export"] is null) Problem(l.Position, "an llm recipe needs export.path (the folder the pruned checkpoint is written to)", field: "export.path");
        string? calibration = Path(l, "calibration", "llm.calibration", keepNames: _ => false);
        if (calibration is null && l["calibration"] is null) Problem(l.Position, "llm.calibration is required (a text file the calibration windows are drawn from)", field: "llm.calibration");
        string? method = Text(l, "method", "llm.method");
        bool depth = string.Equals(method, LlmDepthPipeline.ShortGpt, StringComparison.OrdinalIgnoreCase);
        string[] methods = [.. LlmPruningPipeline.MethodNames, LlmDepthPipeline.ShortGpt];
        if (method is not null && !methods.Contains(method, StringComparer.OrdinalIgnoreCase))
            Problem(PositionOf("llm.method"), $"llm.method must be one of {string.Join(", ", methods)}; got '{method}'", NearestNames.Find(method, methods), field: "llm.method");
        foreach (var (key, _) in l.Entries.Where(e => RecipeSchema.LlmDepth.Contains(e.Key.Value) != depth && !RecipeSchema.LlmCommon.Contains(e.Key.Value)))
            Problem(key.Position, depth
                ? $"llm.{key.Value} does not apply to llm.method shortgpt (it removes whole decoder layers: llm.remove or llm.layers)"
                : $"llm.{key.Value} applies to llm.method shortgpt only (the layer removal); llm.method {method ?? new LlmPruningDescription("", "", "").Method} prunes weights", field: $"llm.{key.Value}");
        if (depth)
        {
            var defaults = new LlmDepthDescription("", "", "");
            return (null, new LlmDepthDescription(d.Model, d.Export?.Path ?? "", calibration ?? "", Number(l, "remove", "llm.remove", int.Parse), Layers(l),
                Number(l, "nsamples", "llm.nsamples", int.Parse) ?? defaults.Samples, Number(l, "seqlen", "llm.seqlen", int.Parse) ?? defaults.SequenceLength,
                Number(l, "batch_size", "llm.batch_size", int.Parse) ?? defaults.BatchSize, d.Seed, Flag(l, "replace", "llm.replace") ?? false));
        }
        var prune = new LlmPruningDescription("", "", "");
        return (new LlmPruningDescription(d.Model, d.Export?.Path ?? "", calibration ?? "", method ?? prune.Method,
            Text(l, "sparsity", "llm.sparsity") ?? prune.Sparsity, Number(l, "nsamples", "llm.nsamples", int.Parse) ?? prune.Samples,
            Number(l, "seqlen", "llm.seqlen", int.Parse) ?? prune.SequenceLength, Text(l, "allocation", "llm.allocation") ?? prune.Allocation,
            Number(l, "owl_lambda", "llm.owl_lambda", double.Parse) ?? prune.OwlLambda, Number(l, "owl_m", "llm.owl_m", double.Parse) ?? prune.OwlThreshold,
            Text(l, "refine", "llm.refine") ?? prune.Refine, Number(l, "blocksize", "llm.blocksize", int.Parse) ?? prune.BlockSize,
            Number(l, "percdamp", "llm.percdamp", double.Parse) ?? prune.PercDamp, Number(l, "batch_size", "llm.batch_size", int.Parse) ?? prune.BatchSize,
            d.Seed, Flag(l, "replace", "llm.replace") ?? false), null);
    }

    /// <summary>
    /// The perplexity measurement of a recipe with an <c>evaluation</c> section (null without one): <c>model</c> the
    /// Hugging Face checkpoint folder, the text and windows in the section; nothing is written, so data, stages,
    /// recovery, evaluate, inputs and export do not apply. With <paramref name="afterPrune"/> (an <c>llm</c> section),
    /// the checkpoint is the one the prune writes to <c>export.path</c>, and the keys that do not
    /// apply are the <c>llm</c> section's to report.
    /// </summary>
    public LlmEvaluationDescription? Evaluation(MappingNode root, PipelineDescription d, bool afterPrune = false)
    {
        if (Section(root, "evaluation", "evaluation", RecipeSchema.Evaluation) is not { } e) return null;
        NotApplicable(root, afterPrune ? [] : ["data", "stages", "recovery", "evaluate", "inputs", "export"], "an evaluation recipe (it measures the perplexity of the checkpoint in model on evaluation.text)");
        string? text = Path(e, "text", "evaluation.text", keepNames: _ => false);
        if (text is null && e["text"] is null) Problem(e.Position, "evaluation.text is required (the text file scored)", field: "evaluation.text");
        var defaults = new LlmEvaluationDescription("", "");
        return new LlmEvaluationDescription(afterPrune ? d.Export?.Path ?? "" : d.Model, text ?? "", Number(e, "seqlen", "evaluation.seqlen", int.Parse) ?? defaults.SequenceLength,
            Number(e, "batch_size", "evaluation.batch_size", int.Parse) ?? defaults.BatchSize);
    }

    /// <summary>
    /// <c>data.tokenizer</c> as <see cref="Sources.Tokenizer"/> reads it, its file (after <c>tiktoken:</c> or
    /// <c>wordpiece:</c>, or a tokenizer.json or SentencePiece model) read from the folder of the recipe (the working
    /// folder for <c>--set</c>); null when absent or bytes, the default.
    /// </summary>
    string? Tokenizer(MappingNode data)
    {
        if (Text(data, "tokenizer", "data.tokenizer") is not { } spec || spec.Equals(DataDescription.DefaultTokenizer, StringComparison.OrdinalIgnoreCase)) return null;
        int colon = spec.IndexOf(':');
        string prefix = colon > 0 && spec[..colon].ToLowerInvariant() is "tiktoken" or "wordpiece" ? spec[..(colon + 1)] : "";
        string file = spec[prefix.Length..];
        bool names = prefix.Length > 0 || spec.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".model", StringComparison.OrdinalIgnoreCase);
        if (!names || System.IO.Path.IsPathRooted(file)) return spec;
        string written = PositionOf("data.tokenizer").File;
        string folder = File.Exists(written) ? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(written))! : Directory.GetCurrentDirectory();
        return prefix + System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, file));
    }

    /// <summary><c>llm.layers</c>: a layer index or a list of them (null when absent or not whole numbers, which is reported).</summary>
    IReadOnlyList<int>? Layers(MappingNode l)
    {
        if (Strings(l, "layers", "llm.layers") is not { } items) return null;
        var layers = new List<int>();
        foreach (var item in items)
            if (int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int layer)) layers.Add(layer);
            else
            {
                Problem(PositionOf("llm.layers"), $"llm.layers: '{item}' is not a layer index (0-based whole numbers, e.g. [4, 5])", field: "llm.layers");
                return null;
            }
        return layers;
    }

    /// <summary>Reports each of <paramref name="keys"/> given at the top of <paramref name="root"/> as not applying to <paramref name="recipe"/> (a kind of recipe and why).</summary>
    void NotApplicable(MappingNode root, string[] keys, string recipe)
    {
        foreach (var key in keys)
            if (root.Entries.FirstOrDefault(e => e.Key.Value == key).Key is { } given)
                Problem(given.Position, $"{key} does not apply to {recipe}", field: key);
    }

    void Problem(SourcePosition at, string message, IReadOnlyList<string>? suggestions = null, string? field = null)
    {
        Problems.Add(new RecipeProblem(at, message, suggestions));
        if (field is not null) Broken.Add(field);
    }

    /// <summary>Reports every key of <paramref name="map"/> that <paramref name="valid"/> lacks, with the nearest valid keys.</summary>
    void Keys(MappingNode map, string field, string[] valid)
    {
        foreach (var (key, _) in map.Entries.Where(e => !valid.Contains(e.Key.Value)))
            Problem(key.Position, $"unknown key '{(field.Length == 0 ? "" : field + ".")}{key.Value}'; {(field.Length == 0 ? "a recipe" : field)} holds {string.Join(", ", valid)}",
                NearestNames.Find(key.Value, valid));
        foreach (var duplicate in map.Entries.GroupBy(e => e.Key.Value).Where(g => g.Count() > 1))
            foreach (var (key, _) in duplicate.Skip(1)) Problem(key.Position, $"key '{key.Value}' is given twice");
    }

    bool Mapping(RecipeNode node, string field, string[] keys, out MappingNode map)
    {
        _fields[field] = node.Position;
        if (node is MappingNode m)
        {
            map = m;
            Keys(m, field, keys);
            return true;
        }
        map = null!;
        Problem(node.Position, $"{field} is a mapping of {string.Join(", ", keys)}", field: field);
        return false;
    }

    MappingNode? Section(MappingNode parent, string key, string field, string[] keys) =>
        parent[key] is { } node && !(node is ScalarNode { IsNull: true }) && Mapping(node, field, keys, out var map) ? map : null;

    ScalarNode? Scalar(MappingNode map, string key, string field)
    {
        if (map[key] is not { } node) return null;
        _fields[field] = node.Position;
        if (node is ScalarNode { IsNull: true }) return null;
        if (node is ScalarNode scalar) return scalar;
        Problem(node.Position, $"{field} is a single value, not a {(node is MappingNode ? "mapping" : "list")}", field: field);
        return null;
    }

    string? Text(MappingNode map, string key, string field) => Scalar(map, key, field)?.Value;

    T? Number<T>(MappingNode map, string key, string field, Func<string, IFormatProvider, T> parse) where T : struct
    {
        if (Scalar(map, key, field) is not { } s) return null;
        try
        {
            var value = parse(s.Value, CultureInfo.InvariantCulture);
            if (value is double d && !double.IsFinite(d)) throw new FormatException();
            return value;
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            Problem(s.Position, $"{field} must be a {(typeof(T) == typeof(double) ? "number" : "whole number")}, got '{s.Value}'", field: field);
            return null;
        }
    }

    bool? Flag(MappingNode map, string key, string field)
    {
        if (Scalar(map, key, field) is not { } s) return null;
        if (bool.TryParse(s.Value, out bool value)) return value;
        Problem(s.Position, $"{field} must be true or false, got '{s.Value}'", field: field);
        return null;
    }

    IReadOnlyList<string>? Strings(MappingNode map, string key, string field)
    {
        if (map[key] is not { } node) return null;
        _fields[field] = node.Position;
        switch (node)
        {
            case ScalarNode { IsNull: true }: return null;
            case ScalarNode s: return new[] { s.Value };
            case SequenceNode list when list.Items.All(i => i is ScalarNode): return list.Items.Cast<ScalarNode>().Select(i => i.Value).ToList();
            default:
                Problem(node.Position, $"{field} is a list of names or patterns", field: field);
                return null;
        }
    }

    /// <summary>An input tensor, NAME=FILE.npy or FILE.npz, its file read from the folder of <paramref name="recipe"/>.</summary>
    static string InputTensor(string spec, string recipe)
    {
        int eq = spec.IndexOf('=');
        string file = spec[(eq + 1)..];
        if (System.IO.Path.IsPathRooted(file) || !File.Exists(recipe)) return spec;
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(recipe))!, file));
        return eq < 0 ? full : $"{spec[..eq]}={full}";
    }

    /// <summary>A file or folder, read from the folder of the file that wrote it; <paramref name="keepNames"/> says which values are names, not paths.</summary>
    string? Path(MappingNode map, string key, string field, Func<string, bool> keepNames)
    {
        if (Scalar(map, key, field) is not { } s) return null;
        if (keepNames(s.Value) || System.IO.Path.IsPathRooted(s.Value)) return s.Value;
        bool fromFile = File.Exists(s.Position.File);
        string folder = fromFile ? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(s.Position.File))! : Directory.GetCurrentDirectory();
        string resolved = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, s.Value));
        // A bare word that is no file (a mistyped zoo or data set name) stays as written, so that its problem shows it and gets suggestions.
        return File.Exists(resolved) || Directory.Exists(resolved) || s.Value.Contains('/') || s.Value.Contains('.') || field is "export.path" or "training.checkpoint" or "comparison.folder" or "comparison.report" ? resolved : s.Value;
    }
}
