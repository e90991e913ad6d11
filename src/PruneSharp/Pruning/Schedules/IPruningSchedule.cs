namespace PruneSharp.Pruning.Schedules;

/// <summary>
/// When pruning happens and to what sparsity. A step is whatever the caller counts: optimizer steps for gradual
/// pruning during training, rounds (1, 2, ...) for iterative prune–retrain, or a single step for one-shot.
/// </summary>
public interface IPruningSchedule
{
    /// <summary>True if the model should be pruned at <paramref name="step"/>.</summary>
    bool ShouldPrune(long step);

    /// <summary>The target sparsity after the pruning at or last before <paramref name="step"/> (0 before the first).</summary>
    double SparsityAt(long step);
}
