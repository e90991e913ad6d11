using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Schedules;

namespace PruneSharp.Pruning;

/// <summary>
/// The hooks a training loop calls to prune on a schedule and keep pruned weights at zero:
/// <see cref="AfterBackward"/> between backward and the optimizer step, <see cref="AfterStep"/> after the step.
/// </summary>
public sealed class ScheduledPruning
{
    readonly Func<ScoringContext>? _context;

    /// <summary>Creates the hooks; <paramref name="context"/> supplies data to data-driven criteria at each pruning.</summary>
    public ScheduledPruning(Pruner pruner, IPruningSchedule schedule, Func<ScoringContext>? context = null)
    {
        Pruner = pruner;
        Schedule = schedule;
        _context = context;
    }

    /// <summary>The pruner run at each scheduled step.</summary>
    public Pruner Pruner { get; }

    /// <summary>When to prune, and how far.</summary>
    public IPruningSchedule Schedule { get; }

    /// <summary>The masks kept in force.</summary>
    public MaskSet Masks => Pruner.Masks;

    /// <summary>Masks the gradients (call after backward, before the optimizer step).</summary>
    public void AfterBackward() => Masks.MaskGradients();

    /// <summary>
    /// Re-zeroes pruned weights (momentum and weight decay may have moved them), then prunes if the schedule says so at
    /// <paramref name="step"/> (the number of optimizer steps done). Returns the pruning's outcome, or null if none ran.
    /// </summary>
    public IReadOnlyList<LayerPruning>? AfterStep(long step)
    {
        Masks.Apply();
        return Schedule.ShouldPrune(step) ? Pruner.Prune(Schedule.SparsityAt(step), _context?.Invoke()) : null;
    }
}
