using System.Text.Json.Serialization;

namespace PruneSharp.Pipelines;

/// <summary>
/// A whole pruning run as data: load the model, read the data, prune in stages with recovery after each, evaluate,
/// export. Recipes read into it; <see cref="Pipeline.Run"/> runs it. Names of methods, granularities, scopes and
/// schedules are those of <see cref="PruningParts"/>.
/// </summary>
/// <param name="Model">An ONNX file or a zoo classifier name (built at its initialisation with <see cref="Seed"/>).</param>
/// <param name="Data">The data (null: none; data-free methods only, and no accuracy).</param>
/// <param name="Stages">The pruning stages, in order.</param>
/// <param name="Recovery">What trains the model after each stage.</param>
/// <param name="Export">Where the pruned model is written (null: not written).</param>
/// <param name="Seed">Seed of the zoo initialisation, batch order and random pruning.</param>
/// <param name="Evaluate">Measure test accuracy before and after (needs <see cref="Data"/>).</param>
/// <param name="Latency">Measure the written model's latency (needs <see cref="Export"/>; null: not measured).</param>
/// <param name="Inputs">How example inputs are made without test data (null: synthesised from the graph alone).</param>
/// <remarks>Fields added after the first recipes are left out of a recipe's canonical text when unset, so that its identity stays.</remarks>
public sealed record PipelineDescription(string Model, DataDescription? Data, IReadOnlyList<StageDescription> Stages, RecoveryDescription Recovery,
    ExportDescription? Export, long Seed = 0, bool Evaluate = true,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LatencyDescription? Latency = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] InputsDescription? Inputs = null);

/// <summary>
/// The example inputs of a model run without test data (MAC counts, traced channel groups): every graph input is
/// synthesised from the graph (<see cref="Data.Inputs.InputSynthesis"/>) but those given here.
/// </summary>
/// <param name="Shape">Input shapes, NAME=DxDx... (their symbolic dimensions set the same dimensions of the other inputs).</param>
/// <param name="Tensors">Tensors fed as they are: NAME=FILE.npy, or FILE.npz (its arrays by name).</param>
/// <param name="Normalize">Without data: the normalisation the model was trained with (as <see cref="DataDescription.Normalize"/>), written with it.</param>
public sealed record InputsDescription(IReadOnlyList<string>? Shape = null, IReadOnlyList<string>? Tensors = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Normalize = null);

/// <summary>
/// How the written model's latency is measured: ONNX Runtime at batch 1, the written model and the dense one
/// alternately (one untimed warm-up call each, then <see cref="Rounds"/> timed rounds), the median recorded.
/// </summary>
/// <param name="Threads">ONNX Runtime's intra-op threads.</param>
/// <param name="Rounds">Timed rounds.</param>
public sealed record LatencyDescription(int Threads = 1, int Rounds = 20);

/// <summary>The data of a pipeline.</summary>
/// <param name="Source">A data set name or folder (<see cref="Sources.LoadData"/>).</param>
/// <param name="TrainExamples">Use only the first this many training examples (null: all).</param>
/// <param name="TestExamples">Use only the first this many test examples (null: all).</param>
/// <param name="Normalize">MEAN[,MEAN...]/STD[,STD...] on the [0, 1] scale; null: the model's metadata, else none.</param>
/// <param name="Resize">Image folders: the shorter side's size before cropping.</param>
/// <param name="Crop">Image folders: the model's input size.</param>
/// <param name="Augment">Training augmentation: null or a comma list of crop:PAD and flip.</param>
/// <param name="Tokenizer">A text file's tokenizer (<see cref="Sources.Tokenizer"/>: bytes, tiktoken:FILE, wordpiece:FILE, FILE.json, FILE.model; null: bytes). A WordPiece vocabulary makes the file an encoder's unlabeled sentences, one per line; the others a language model's text.</param>
/// <param name="Context">Text: tokens per training sequence and per perplexity window of a language model, or the longest sentence fed to an encoder (null: 128).</param>
/// <param name="HeldOut">A language model's text: the fraction at its end held out for perplexity (null: 0.1).</param>
/// <remarks>The text fields were added after the first recipes and are left out of the canonical text while unset; the default values are stored as null.</remarks>
public sealed record DataDescription(string Source, int? TrainExamples = null, int? TestExamples = null, string? Normalize = null,
    int? Resize = null, int? Crop = null, string? Augment = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Tokenizer = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Context = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? HeldOut = null)
{
    /// <summary>The tokens per sequence when <see cref="Context"/> is unset.</summary>
    public const int DefaultContext = 128;

    /// <summary>The held-out fraction when <see cref="HeldOut"/> is unset.</summary>
    public const double DefaultHeldOut = 0.1;

    /// <summary>The tokenizer when <see cref="Tokenizer"/> is unset.</summary>
    public const string DefaultTokenizer = "bytes";
}

/// <summary>
/// One pruning stage: unstructured (masks: zeros in place, the shapes kept) or, with <see cref="Structure"/>
/// <c>channel</c>, <c>head</c> or <c>block</c>, structured (whole channels, attention heads or residual blocks
/// removed: a smaller dense model).
/// </summary>
/// <param name="Method">The criterion: <see cref="PruningParts.Methods"/>, or for channels <see cref="StructuredParts.Methods"/>.</param>
/// <param name="Sparsity">The sparsity after the stage; null only for pattern granularities, which fix it.</param>
/// <param name="Granularity">element, N:M, block:RxC, kernel or pattern[:K].</param>
/// <param name="Scope">local, global or erk.</param>
/// <param name="Schedule">oneshot, iterative:K or gradual.</param>
/// <param name="Exclude">Parameters never pruned (names or patterns with * and ?).</param>
/// <param name="FirstLast">"keep" or "prune" the first and last layers; null: the default for the granularity and sparsity.</param>
/// <param name="PruneEmbeddings">Also prune embedding tables.</param>
/// <param name="Strict">Fail on a layer the granularity cannot split instead of leaving it dense.</param>
/// <param name="Structure">null: unstructured; <c>channel</c>, <c>head</c> or <c>block</c>: remove whole channels, attention heads or residual blocks (the fields below apply, those above but Method do not).</param>
/// <param name="Ratio">Channels and heads: the fraction of each group's channels removed (of all channels with <see cref="Global"/>); blocks: of the removable residual blocks (or give <see cref="Blocks"/>).</param>
/// <param name="RoundTo">Channels: keep a multiple of this many per group.</param>
/// <param name="MaxRatio">Channels: never remove more than this fraction of one group.</param>
/// <param name="Global">Channels: rank the channels of all groups together (scores normalised by each group's mean; BatchNorm scales compared as they are).</param>
/// <param name="Ignore">Channels: nodes or weights whose output channels are kept (e.g. the classifier).</param>
/// <param name="Approximate">Channels and heads: also prune channels a LayerNorm normalises over (the renormalised model only approximates the dense one).</param>
/// <param name="FfnRatio">Heads: also remove this fraction of every exact channel group (a transformer's FFN width) in the same stage.</param>
/// <param name="HiddenRatio">Channels and heads: remove this fraction of the hidden size (up to the outputs, which narrow); needs <see cref="Approximate"/>.</param>
/// <param name="Steps">Channels and heads: prune in this many steps, the recovery between them (null: 1).</param>
/// <param name="Calibration">Channels and heads: refit the layers that lost inputs by least squares on this many training examples (null: off).</param>
/// <param name="Aggregate">Channels and heads, l1/l2: how a group's weight norms combine, sum, mean, max or first (null: sum).</param>
/// <param name="IncludeReaders">Channels, l1/l2: also count the input slices of the layers that read a channel (always on for heads).</param>
/// <param name="Blocks">Blocks: the number of residual blocks removed (instead of <see cref="Ratio"/>).</param>
/// <remarks>Fields from <see cref="Approximate"/> on were added after the first recipes and are left out of the canonical text while unset.</remarks>
public sealed record StageDescription(string Method, double? Sparsity, string Granularity = "element", string Scope = "local", string Schedule = "oneshot",
    IReadOnlyList<string>? Exclude = null, string? FirstLast = null, bool PruneEmbeddings = false, bool Strict = false,
    string? Structure = null, double? Ratio = null, int RoundTo = 1, double MaxRatio = 0.9, bool Global = false, IReadOnlyList<string>? Ignore = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Approximate = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? FfnRatio = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? HiddenRatio = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Steps = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Calibration = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Aggregate = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool IncludeReaders = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Blocks = null);

/// <summary>What trains the model after each stage, and how.</summary>
/// <param name="Kind">finetune (labels), distill (match the dense model's outputs) or none.</param>
/// <param name="Epochs">Epochs after each stage (per round of an iterative schedule).</param>
/// <param name="BatchSize">Examples per batch.</param>
/// <param name="Optimizer">sgd, adam or adamw.</param>
/// <param name="LearningRate">Initial learning rate.</param>
/// <param name="Momentum">SGD momentum.</param>
/// <param name="WeightDecay">Weight decay.</param>
/// <param name="LearningRateSchedule">constant, cosine, step or onecycle.</param>
/// <param name="DistillLoss">Distillation: auto (KL for logits, cosine + MSE for embeddings), kl, mse, cosine or cosine-mse (null: auto).</param>
/// <param name="Temperature">Distillation: temperature of the KL loss on logits (null: 2).</param>
/// <param name="DistillFeatures">Distillation: intermediate values also matched (names or patterns).</param>
/// <param name="Freeze">Parameters never trained, on top of the default selection (names or patterns).</param>
/// <param name="TrainOnly">Train exactly these parameters instead of the default selection (names or patterns).</param>
/// <param name="Threads">libtorch threads while training (null: all cores); results do not depend on it.</param>
public sealed record RecoveryDescription(string Kind = "finetune", int Epochs = 0, int BatchSize = 64, string Optimizer = "sgd", double LearningRate = 0.01,
    double Momentum = 0.9, double WeightDecay = 0, string LearningRateSchedule = "constant",
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DistillLoss = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Temperature = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? DistillFeatures = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Freeze = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? TrainOnly = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Threads = null);

/// <summary>Where and how the pruned model is written.</summary>
/// <param name="Path">The ONNX file.</param>
/// <param name="EmbedPreprocessing">Write the normalisation as nodes at the model's input instead of metadata.</param>
/// <param name="KeepOpset">Write at the input file's own opset when it is older than the one it was upgraded to on import.</param>
public sealed record ExportDescription(string Path, bool EmbedPreprocessing = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool KeepOpset = false);
