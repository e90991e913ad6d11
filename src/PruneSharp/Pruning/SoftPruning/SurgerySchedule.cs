namespace PruneSharp.Pruning.SoftPruning;

/// <summary>
/// When dynamic network surgery revises its masks (Guo et al. 2016): after optimizer step t (counted from 1) with
/// probability σ(t) = (1 + γ·t)^(−power), and never from <see cref="StopStep"/> on. σ(0) = 1 and σ decreases, so
/// the masks move often early in training and settle later. The draw for step t is a fixed function of
/// (<see cref="Seed"/>, t), so a run resumed from a checkpoint draws what the uninterrupted run drew.
/// γ = 0 revises after every step.
/// </summary>
public sealed record SurgerySchedule
{
    /// <summary>The paper's γ (its Caffe layers' default: 1e-4).</summary>
    public double Gamma { get; init; } = 1e-4;

    /// <summary>The paper's power (default 1).</summary>
    public double Power { get; init; } = 1;

    /// <summary>No revision after steps ≥ this (the paper's iter_stop); null: revisions until the end of training.</summary>
    public long? StopStep { get; init; }

    /// <summary>Seed of the draws.</summary>
    public long Seed { get; init; }

    /// <summary>A revision after every step (γ = 0).</summary>
    public static SurgerySchedule EveryStep { get; } = new() { Gamma = 0 };

    /// <summary>Throws if a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">γ or the power is negative or not finite, or the stop step is not positive.</exception>
    public void Validate()
    {
        if (!(Gamma >= 0 && double.IsFinite(Gamma))) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "the surgery probability's γ must be a finite number ≥ 0");
        if (!(Power >= 0 && double.IsFinite(Power))) throw new ArgumentOutOfRangeException(nameof(Power), Power, "the surgery probability's power must be a finite number ≥ 0");
        if (StopStep is <= 0) throw new ArgumentOutOfRangeException(nameof(StopStep), StopStep, "the surgery stop step must be positive");
    }

    /// <summary>σ(<paramref name="step"/>) = (1 + γ·t)^(−power), 0 from <see cref="StopStep"/> on.</summary>
    public double Probability(long step) =>
        StopStep is { } stop && step >= stop ? 0 : Math.Pow(1 + Gamma * step, -Power);

    /// <summary>True if the masks are revised after optimizer step <paramref name="step"/>: u(seed, t) &lt; σ(t).</summary>
    public bool Fires(long step)
    {
        double probability = Probability(step);
        return probability >= 1 || Uniform(step) < probability;
    }

    /// <summary>A uniform number in [0, 1) fixed by the seed and the step (SplitMix64 of both).</summary>
    double Uniform(long step)
    {
        ulong x = unchecked((ulong)Seed * 0x9E3779B97F4A7C15UL + (ulong)step);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }
}
