using System.Text.Json.Serialization;

namespace PruneSharp.Pipelines;

/// <summary>
/// A comparison study as data: one dense model (trained from <see cref="Model"/> when <see cref="Dense"/> is given,
/// else the ONNX file <see cref="Model"/> itself), then each variant, a pruning pipeline run on that dense model (or
/// the dense model's training from initialisation, pruned at initialisation), and
/// one row per model measured on the same test split. What a recipe's <c>comparison</c> section and the <c>demo</c>
/// verb describe; <see cref="ComparisonPipeline.Run"/> runs it, reusing the finished steps cached in <see cref="Folder"/>.
/// </summary>
/// <param name="Model">A zoo classifier or an ONNX file: what <see cref="Dense"/> trains, or the dense model itself.</param>
/// <param name="Data">The data: the dense model's training, the variants' scoring and recovery, every row's test accuracy.</param>
/// <param name="Recovery">The variants' recovery after each stage (a variant may give its own).</param>
/// <param name="Variants">The pruned models compared with the dense one, in the table's order.</param>
/// <param name="Folder">Where the models, the cached rows, the run store (<c>runs.db</c>) and, by default, the report go.</param>
/// <param name="Seed">Seed of the dense model's initialisation and training, and of every variant's pipeline.</param>
/// <param name="Evaluate">Measure every model's test accuracy.</param>
/// <param name="Latency">Time every model in ONNX Runtime at batch 1 (null: not timed).</param>
public sealed record ComparisonDescription(string Model, DataDescription Data, RecoveryDescription Recovery, IReadOnlyList<ComparisonVariant> Variants,
    string Folder, long Seed = 0, bool Evaluate = true, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LatencyDescription? Latency = null)
{
    /// <summary>How the dense model is trained from <see cref="Model"/> (null: <see cref="Model"/> is the dense model, an ONNX file).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DenseTrainingDescription? Dense { get; init; }

    /// <summary>The HTML report of the rows (null: <c>report.html</c> in <see cref="Folder"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Report { get; init; }

    /// <summary>Ignore the cached rows and compute every step again (not part of what the study is).</summary>
    [JsonIgnore]
    public bool Recompute { get; init; }
}

/// <summary>How a comparison trains its dense model (a <see cref="TrainingDescription"/> of the comparison's model, data and seed).</summary>
/// <param name="Training">The training settings (kind finetune; epochs, batch size, optimizer, learning rate and schedule, threads).</param>
/// <param name="TrainExamples">Train on the first this many training examples (null: all; the comparison's <see cref="DataDescription.TrainExamples"/> limits the variants only).</param>
public sealed record DenseTrainingDescription(RecoveryDescription Training, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TrainExamples = null);

/// <summary>
/// One pruned model of a comparison: pruning stages run on the dense model, then the recovery; or, with
/// <see cref="AtInit"/>, the dense model's training from the same initialisation, pruned at initialisation.
/// </summary>
/// <param name="Name">Its name in file names and the run store (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>; not <c>dense</c>).</param>
/// <param name="Stages">The pruning stages, in order (none with <see cref="AtInit"/>).</param>
/// <param name="Label">Its name in the table (null: <see cref="Name"/>).</param>
/// <param name="Recovery">Its own recovery (null: the comparison's).</param>
public sealed record ComparisonVariant(string Name, IReadOnlyList<StageDescription> Stages,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RecoveryDescription? Recovery = null)
{
    /// <summary>
    /// Train from initialisation, pruned at initialisation, with the comparison's dense training (same data, seed and
    /// epochs as the dense model: the row compares with it), instead of pruning the trained dense model (null: stages).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AtInitDescription? AtInit { get; init; }
}
