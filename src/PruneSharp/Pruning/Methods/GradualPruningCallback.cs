using PruneSharp.Training;

namespace PruneSharp.Pruning.Methods;

/// <summary>
/// Runs a <see cref="ScheduledPruning"/> inside a <see cref="Trainer"/>: gradients of pruned weights are masked
/// before every optimizer step, and after it the masks are re-applied and the schedule prunes at its steps (e.g.
/// the cubic schedule of <see cref="Schedules.GradualSchedule"/>), counting the trainer's optimizer steps.
/// </summary>
public sealed class GradualPruningCallback(ScheduledPruning pruning) : ITrainingCallback
{
    /// <summary>The schedule and pruner run during training.</summary>
    public ScheduledPruning Pruning { get; } = pruning;

    /// <inheritdoc/>
    public void OnBeforeOptimizerStep(TrainingContext context) => Pruning.AfterBackward();

    /// <inheritdoc/>
    public void OnAfterOptimizerStep(TrainingContext context) => Pruning.AfterStep(context.Position.Step);
}
