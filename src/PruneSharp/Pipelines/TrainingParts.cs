using PruneSharp.Recovery;
using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>Reads the names of optimizers and learning-rate schedules, for command-line flags and recipes alike.</summary>
public static class TrainingParts
{
    /// <summary>The optimizers by name.</summary>
    public static IReadOnlyList<string> Optimizers { get; } = new[] { "sgd", "adam", "adamw" };

    /// <summary>The learning-rate schedules by name.</summary>
    public static IReadOnlyList<string> Schedules { get; } = new[] { "constant", "cosine", "step", "onecycle" };

    /// <summary>The optimizer named <paramref name="name"/>.</summary>
    public static OptimizerKind Optimizer(string name, string field = "--optimizer") => name.ToLowerInvariant() switch
    {
        "sgd" => OptimizerKind.Sgd,
        "adam" => OptimizerKind.Adam,
        "adamw" => OptimizerKind.AdamW,
        _ => throw new ArgumentException($"{field} '{name}' is not one of sgd, adam, adamw"),
    };

    /// <summary>
    /// The schedule named <paramref name="name"/> from <paramref name="rate"/> over <paramref name="steps"/> steps
    /// (step: ×0.1 at one half and three quarters).
    /// </summary>
    public static LearningRateSchedule Schedule(string name, double rate, long steps, string field = "--schedule") => name.ToLowerInvariant() switch
    {
        "constant" => new ConstantSchedule(rate),
        "cosine" => new CosineSchedule(rate, steps),
        "step" => new MultiStepSchedule(rate, new[] { steps / 2, steps * 3 / 4 }),
        "onecycle" => new OneCycleSchedule(rate, steps),
        _ => throw new ArgumentException($"{field} '{name}' is not one of constant, cosine, step, onecycle"),
    };

    /// <summary>The distillation losses by name.</summary>
    public static IReadOnlyList<string> DistillationLosses { get; } = new[] { "auto", "kl", "mse", "cosine", "cosine-mse" };

    /// <summary>The distillation loss named <paramref name="name"/>.</summary>
    public static DistillationLoss DistillationLoss(string name, string field = "--distill-loss") => name.ToLowerInvariant() switch
    {
        "auto" => Recovery.DistillationLoss.Auto,
        "kl" => Recovery.DistillationLoss.KlDivergence,
        "mse" => Recovery.DistillationLoss.Mse,
        "cosine" => Recovery.DistillationLoss.Cosine,
        "cosine-mse" => Recovery.DistillationLoss.CosineMse,
        _ => throw new ArgumentException($"{field} '{name}' is not one of auto, kl, mse, cosine, cosine-mse"),
    };
}
