using PruneSharp.Training;

namespace PruneSharp.Pruning.Regularization;

/// <summary>
/// Adds a sparsity penalty to the training objective: loss + λ(t)·R(w). Backward leaves ∂loss/∂w in the gradients;
/// before every optimizer step this callback adds λ(t)·∂R/∂w (<see cref="SparsityPenalty.AddGradient"/>), which is
/// the gradient of the penalised objective, so momentum, Adam and gradient clipping see the whole of it. The
/// trainer's reported loss stays the data loss.
/// </summary>
public sealed class SparseRegularization(SparsityPenalty penalty, PenaltySchedule schedule) : ITrainingCallback
{
    /// <summary>The penalty R.</summary>
    public SparsityPenalty Penalty { get; } = penalty;

    /// <summary>λ by step.</summary>
    public PenaltySchedule Schedule { get; } = schedule;

    /// <inheritdoc/>
    public void OnBeforeOptimizerStep(TrainingContext context) => Penalty.AddGradient(Schedule.At(context.Position.Step));
}
