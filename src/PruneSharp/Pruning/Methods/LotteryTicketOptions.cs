using System.Globalization;
using PruneSharp.Files;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Training;

namespace PruneSharp.Pruning.Methods;

/// <summary>How the survivors are retrained after each pruning round of a Lottery Ticket experiment.</summary>
public enum RetrainMode
{
    /// <summary>
    /// Weight rewinding: survivors get their values from step k of the dense run (k = 0: the initialisation, Frankle
    /// &amp; Carbin 2019; k &gt; 0: Frankle et al. 2020) and are trained from step k to the end of the schedule.
    /// </summary>
    WeightRewinding,

    /// <summary>
    /// Learning-rate rewinding (Renda et al. 2020): survivors keep their trained values and are trained again from
    /// step k to the end, with the learning-rate schedule rewound to step k.
    /// </summary>
    LearningRateRewinding,

    /// <summary>Fine-tuning: survivors keep their trained values and are trained for as many steps at the schedule's final learning rate.</summary>
    FineTuning,
}

/// <summary>What is trained at each pruning round.</summary>
public enum TicketVariant
{
    /// <summary>The ticket: iterative magnitude pruning's masks, retrained as <see cref="RetrainMode"/> says.</summary>
    Ticket,

    /// <summary>Control: the ticket's masks on a fresh random initialisation (another seed), trained like the ticket.</summary>
    Reinit,

    /// <summary>Control: random masks with the ticket's per-layer densities on the rewound weights, trained like the ticket.</summary>
    Random,
}

/// <summary>Settings of a <see cref="LotteryTicketExperiment"/>.</summary>
public sealed record LotteryTicketOptions
{
    /// <summary>Pruning rounds after the dense run.</summary>
    public int Rounds { get; init; } = 10;

    /// <summary>Fraction p of the surviving weights removed per round: after round r the density is (1 − p)^r.</summary>
    public double Rate { get; init; } = 0.2;

    /// <summary>The rewind point k in optimizer steps (0: the initialisation).</summary>
    public long RewindStep { get; init; }

    /// <summary>How survivors are retrained.</summary>
    public RetrainMode Retrain { get; init; } = RetrainMode.WeightRewinding;

    /// <summary>What is trained each round (the ticket line always runs: it produces the masks).</summary>
    public IReadOnlyList<TicketVariant> Variants { get; init; } = [TicketVariant.Ticket];

    /// <summary>The pruning criterion (default magnitude).</summary>
    public Criterion Criterion { get; init; } = new MagnitudeCriterion();

    /// <summary>Which weights are pruned and how the rate is split (default: one global threshold over every weight of rank ≥ 2).</summary>
    public PruningScope Scope { get; init; } = new() { Allocation = Allocation.Allocation.Global };

    /// <summary>The training run (epochs, optimizer, learning-rate schedule, seed) used for the dense model and every retraining.</summary>
    public TrainerOptions Training { get; init; } = new();

    /// <summary>
    /// How the caller names the model and data (e.g. <c>model</c> = <c>lenet-5</c>, <c>data</c> = <c>fashion-mnist</c>):
    /// recorded in the experiment's fingerprint next to the hashes of the model's initial weights and of the data.
    /// </summary>
    public IReadOnlyDictionary<string, string> Identity { get; init; } = new Dictionary<string, string>();

    /// <summary>Throws if a setting is out of range.</summary>
    public void Validate()
    {
        if (Rounds < 0) throw new ArgumentOutOfRangeException(nameof(Rounds), Rounds, "rounds must be non-negative");
        if (!(Rate > 0 && Rate < 1)) throw new ArgumentOutOfRangeException(nameof(Rate), Rate, "the pruning rate must be in (0, 1)");
        if (RewindStep < 0) throw new ArgumentOutOfRangeException(nameof(RewindStep), RewindStep, "the rewind step must be non-negative");
        Training.Validate();
        if (Training.Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Training), Training.Epochs, "training needs at least one epoch");
    }

    /// <summary>
    /// The settings that make results comparable (every option except the number of rounds and the variants, which
    /// only extend an experiment), with <see cref="Identity"/>; an experiment folder only resumes runs with the same fingerprint.
    /// </summary>
    internal RunFingerprint Fingerprint() => new RunFingerprint(Identity.Concat(new Dictionary<string, string>
    {
        ["rate"] = Rate.ToString("R", CultureInfo.InvariantCulture),
        ["rewind"] = RewindStep.ToString(CultureInfo.InvariantCulture),
        ["retrain"] = Retrain.ToString(),
        ["criterion"] = Criterion.Name,
        ["allocation"] = Scope.Allocation.ToString()!,
        ["include"] = string.Join(",", Scope.Include),
        ["exclude"] = string.Join(",", Scope.Exclude),
        ["minrank"] = Scope.MinRank.ToString(CultureInfo.InvariantCulture),
        ["epochs"] = Training.Epochs.ToString(CultureInfo.InvariantCulture),
        ["batch"] = Training.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["seed"] = Training.Seed.ToString(CultureInfo.InvariantCulture),
        ["optimizer"] = Training.Optimizer.ToString(),
        ["schedule"] = Training.Schedule.ToString()!,
        ["clip"] = Training.ClipGradientNorm?.ToString("R", CultureInfo.InvariantCulture) ?? "none",
    }));
}
