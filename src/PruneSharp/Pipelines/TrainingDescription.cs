using System.Text.Json.Serialization;

namespace PruneSharp.Pipelines;

/// <summary>
/// A training run as data: train a zoo model or an ONNX model on image data (a classifier) or on a text file (a
/// language model), optionally sparse, and write it; what <c>train</c>'s flags and a recipe's <c>training</c> section
/// describe. <see cref="TrainingPipeline.Run"/> runs it. At most one of <see cref="AtInit"/>, <see cref="DynamicSparsity"/>,
/// <see cref="SoftFilterPruning"/> and <see cref="Surgery"/>; <see cref="Regularize"/> combines with the last three.
/// </summary>
/// <param name="Model">A zoo classifier, <c>tiny-gpt</c> (text data) or an ONNX file.</param>
/// <param name="Data">The data: a data set name or folder (normalisation, sizes and augmentation apply), or a text file (a language model; only the source applies).</param>
/// <param name="Export">Where the trained model is written (the preprocessing options apply to image models).</param>
/// <param name="Training">How it trains (kind finetune; epochs, batch size, optimizer, schedule, threads, trainable parameters).</param>
/// <param name="Seed">Seed of initialisation, batch order and random choices.</param>
public sealed record TrainingDescription(string Model, DataDescription Data, ExportDescription Export, RecoveryDescription Training, long Seed = 0)
{
    /// <summary>Prune the freshly initialised model before training; training keeps the mask (null: no).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AtInitDescription? AtInit { get; init; }

    /// <summary>A sparsity penalty added to the loss (null: none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RegularizationDescription? Regularize { get; init; }

    /// <summary>Dynamic sparse training at a fixed sparsity (null: no).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DynamicSparsityDescription? DynamicSparsity { get; init; }

    /// <summary>Soft filter pruning: the fraction of each layer's filters zeroed at every epoch's end (null: no).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SoftFilterPruning { get; init; }

    /// <summary>Dynamic network surgery towards a sparsity (null: no).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SurgeryDescription? Surgery { get; init; }

    /// <summary>The language model's settings when <see cref="Data"/> is a text file (null: the defaults).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TextModelDescription? Text { get; init; }

    /// <summary>The checkpoint file, written every epoch and on cancellation (null: the output's path with <c>.ckpt</c> added).</summary>
    [JsonIgnore]
    public string? Checkpoint { get; init; }

    /// <summary>Continue from <see cref="Checkpoint"/>, which must have been made under the same settings.</summary>
    [JsonIgnore]
    public bool Resume { get; init; }

    /// <summary>
    /// The settings a checkpoint is resumed under (a verb passes its options, so that a refusal names them); empty:
    /// the description itself. The hashes of the initial weights and of the training data are always added.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> Identity { get; init; } = new Dictionary<string, string>();
}

/// <summary>Pruning at initialisation (<see cref="Pruning.AtInit.PruningAtInitialization"/>).</summary>
/// <param name="Method">snip, iterative-snip, grasp, synflow, magnitude or random.</param>
/// <param name="Sparsity">The fraction of the layers' weights pruned, in [0, 1).</param>
/// <param name="Batches">Training batches the score is computed on (SNIP, GraSP).</param>
/// <param name="Rounds">Scoring rounds on the exponential schedule (null: synflow 100, iterative-snip 10, others 1).</param>
/// <param name="Scope">global, local or erk.</param>
public sealed record AtInitDescription(string Method, double Sparsity, int Batches = 1, int? Rounds = null, string Scope = "global");

/// <summary>A sparsity penalty on the loss.</summary>
/// <param name="Kind">l1 (weights), group-lasso (filters or channels) or bn-scale (BatchNorm scales: network slimming).</param>
/// <param name="Penalty">λ, the penalty's weight.</param>
/// <param name="Warmup">Epochs over which λ rises linearly from 0.</param>
/// <param name="Group">Group lasso: filter or channel (null: filter).</param>
public sealed record RegularizationDescription(string Kind, double Penalty = 1e-4, double Warmup = 0, string? Group = null);

/// <summary>Dynamic sparse training with ERK layer densities.</summary>
/// <param name="Method">rigl (regrow by gradient magnitude) or set (regrow at random).</param>
/// <param name="Sparsity">The fraction of weights kept at zero.</param>
/// <param name="UpdateEvery">Optimizer steps between topology updates.</param>
/// <param name="DropFraction">Fraction of active weights dropped and regrown at the first update, cosine-decayed to 0.</param>
public sealed record DynamicSparsityDescription(string Method, double Sparsity, int UpdateEvery = 100, double DropFraction = 0.3);

/// <summary>Dynamic network surgery (prune below a threshold, splice back above another; pruned weights keep training).</summary>
/// <param name="Sparsity">The sparsity reached.</param>
/// <param name="Gamma">γ of the probability (1 + γ·t)^(−power) that the masks are revised after step t.</param>
/// <param name="Power">The power of that probability.</param>
/// <param name="Stop">No mask revision after this many epochs (null: until the end).</param>
public sealed record SurgeryDescription(double Sparsity, double Gamma = 1e-4, double Power = 1, double? Stop = null);

/// <summary>A language model's text and size.</summary>
/// <param name="Context">Tokens per training sequence and per evaluation window.</param>
/// <param name="Layers">tiny-gpt: transformer blocks.</param>
/// <param name="Heads">tiny-gpt: attention heads per block.</param>
/// <param name="Width">tiny-gpt: model width (a multiple of <see cref="Heads"/>).</param>
/// <param name="Untied">tiny-gpt: a separate output head instead of one tied to the token embedding.</param>
/// <param name="HeldOut">Fraction of the text (its end) held out for perplexity.</param>
/// <param name="Tokenizer">bytes, tiktoken:FILE, wordpiece:FILE, FILE.json or FILE.model (<see cref="Sources.Tokenizer"/>).</param>
public sealed record TextModelDescription(int Context = 128, int Layers = 4, int Heads = 4, int Width = 128, bool Untied = false, double HeldOut = 0.1, string Tokenizer = "bytes");
