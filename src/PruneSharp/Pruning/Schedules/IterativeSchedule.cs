namespace PruneSharp.Pruning.Schedules;

/// <summary>
/// Iterative pruning in k rounds (steps 1..k), each removing the same fraction of the surviving weights, so that
/// round r reaches sparsity 1 − (1 − s)^(r/k) and round k reaches s. Per-round keep fraction: (1 − s)^(1/k).
/// This is the schedule of iterative magnitude pruning (Han et al. 2015; Frankle &amp; Carbin 2019).
/// </summary>
public sealed class IterativeSchedule : IPruningSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The sparsity is not in [0, 1) or rounds &lt; 1.</exception>
    public IterativeSchedule(double finalSparsity, int rounds)
    {
        FinalSparsity = CheckSparsity(finalSparsity);
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(rounds), rounds, "the number of rounds must be at least 1");
        Rounds = rounds;
    }

    /// <summary>The sparsity after the last round.</summary>
    public double FinalSparsity { get; }

    /// <summary>The number of rounds k.</summary>
    public int Rounds { get; }

    /// <summary>The fraction of survivors each round keeps: (1 − s)^(1/k).</summary>
    public double KeepPerRound => Math.Pow(1 - FinalSparsity, 1.0 / Rounds);

    /// <inheritdoc />
    public bool ShouldPrune(long step) => step >= 1 && step <= Rounds;

    /// <inheritdoc />
    public double SparsityAt(long step) =>
        step <= 0 ? 0 : step >= Rounds ? FinalSparsity : 1 - Math.Pow(1 - FinalSparsity, (double)step / Rounds);

    internal static double CheckSparsity(double sparsity, string name = "sparsity") =>
        sparsity >= 0 && sparsity < 1 ? sparsity : throw new ArgumentOutOfRangeException(name, sparsity, $"{name} must be in [0, 1)");
}
