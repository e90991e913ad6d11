namespace PruneSharp.Pruning.DynamicSparsity;

/// <summary>How dynamic sparse training chooses the connections it grows back after each drop.</summary>
public enum RegrowthRule
{
    /// <summary>SET (Mocanu et al. 2018): uniformly at random among the inactive connections.</summary>
    Random,

    /// <summary>RigL (Evci et al. 2020): the inactive connections with the largest dense gradient magnitude |∂L/∂w|.</summary>
    Gradient,
}

/// <summary>
/// Settings of dynamic sparse training: the overall sparsity (split over layers by ERK), how often the topology
/// changes, and the drop fraction, decayed by a cosine from <see cref="DropFraction"/> at step 0 to 0 at
/// <see cref="EndFraction"/> of training (RigL's schedule; no update after that).
/// </summary>
public sealed record DynamicSparsityOptions
{
    /// <summary>The regrowth rule: SET or RigL.</summary>
    public RegrowthRule Regrowth { get; init; } = RegrowthRule.Gradient;

    /// <summary>Overall fraction of the sparse layers' weights that are inactive, constant through training.</summary>
    public double Sparsity { get; init; } = 0.9;

    /// <summary>ΔT: the topology changes after every this many optimizer steps.</summary>
    public int UpdateEvery { get; init; } = 100;

    /// <summary>The fraction of each layer's active weights dropped (and regrown) at the first update, before decay.</summary>
    public double DropFraction { get; init; } = 0.3;

    /// <summary>The fraction of training after which the topology stays fixed.</summary>
    public double EndFraction { get; init; } = 0.75;

    /// <summary>The optimizer steps of the whole run (the cosine decay's time axis).</summary>
    public long TotalSteps { get; init; }

    /// <summary>Seed of the initial random topology and of SET's random regrowth.</summary>
    public long Seed { get; init; }

    /// <summary>Throws if a setting is out of range.</summary>
    public void Validate()
    {
        if (!(Sparsity >= 0 && Sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(Sparsity), Sparsity, "sparsity must be in [0, 1)");
        if (UpdateEvery <= 0) throw new ArgumentOutOfRangeException(nameof(UpdateEvery), UpdateEvery, "the update interval must be positive");
        if (!(DropFraction >= 0 && DropFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(DropFraction), DropFraction, "the drop fraction must be in [0, 1]");
        if (!(EndFraction > 0 && EndFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(EndFraction), EndFraction, "the end fraction must be in (0, 1]");
        if (TotalSteps < 0) throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "total steps must be non-negative");
    }

    /// <summary>The last step at which the topology may change: <see cref="EndFraction"/>·<see cref="TotalSteps"/>.</summary>
    public double EndStep => EndFraction * TotalSteps;

    /// <summary>True if the topology changes after optimizer step <paramref name="step"/> (counted from 1).</summary>
    public bool IsUpdateStep(long step) => step > 0 && step % UpdateEvery == 0 && step < EndStep;

    /// <summary>The drop fraction at <paramref name="step"/>: F/2·(1 + cos(π·t/T_end)), 0 from T_end on.</summary>
    public double DropFractionAt(long step) =>
        step >= EndStep ? 0 : DropFraction / 2 * (1 + Math.Cos(Math.PI * step / EndStep));
}
