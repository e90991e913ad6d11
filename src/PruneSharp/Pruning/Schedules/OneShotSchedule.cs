namespace PruneSharp.Pruning.Schedules;

/// <summary>One-shot: prune once, at <see cref="Step"/>, straight to the target sparsity.</summary>
public sealed class OneShotSchedule : IPruningSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The sparsity is not in [0, 1).</exception>
    public OneShotSchedule(double sparsity, long step = 0)
    {
        Sparsity = IterativeSchedule.CheckSparsity(sparsity);
        Step = step;
    }

    /// <summary>The target sparsity.</summary>
    public double Sparsity { get; }

    /// <summary>The step at which to prune.</summary>
    public long Step { get; }

    /// <inheritdoc />
    public bool ShouldPrune(long step) => step == Step;

    /// <inheritdoc />
    public double SparsityAt(long step) => step >= Step ? Sparsity : 0;
}
