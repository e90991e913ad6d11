namespace PruneSharp.Pruning.Schedules;

/// <summary>
/// Gradual pruning during training with the cubic schedule of Zhu &amp; Gupta (2017, "To prune, or not to prune"):
/// s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(n·Δt))³, pruning every Δt (<see cref="Frequency"/>) steps from t₀
/// (<see cref="StartStep"/>) to t₀ + n·Δt (<see cref="EndStep"/>). Pruning is fast early, while the network has
/// many redundant weights, and slows down as the target nears. The end step is always a pruning step.
/// </summary>
public sealed class GradualSchedule : IPruningSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A sparsity is outside [0, 1), s_i &gt; s_f, the end is not after the start, or the frequency is below 1.</exception>
    public GradualSchedule(double finalSparsity, long startStep, long endStep, long frequency, double initialSparsity = 0)
    {
        FinalSparsity = IterativeSchedule.CheckSparsity(finalSparsity, nameof(finalSparsity));
        InitialSparsity = IterativeSchedule.CheckSparsity(initialSparsity, nameof(initialSparsity));
        if (initialSparsity > finalSparsity)
            throw new ArgumentOutOfRangeException(nameof(initialSparsity), initialSparsity, $"initial sparsity must not exceed the final sparsity {finalSparsity}");
        if (startStep < 0) throw new ArgumentOutOfRangeException(nameof(startStep), startStep, "the start step must be ≥ 0");
        if (endStep <= startStep) throw new ArgumentOutOfRangeException(nameof(endStep), endStep, $"the end step must come after the start step {startStep}");
        if (frequency < 1) throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "the pruning frequency must be at least 1 step");
        StartStep = startStep;
        EndStep = endStep;
        Frequency = frequency;
    }

    /// <summary>s_i: the sparsity of the first pruning, at the start step.</summary>
    public double InitialSparsity { get; }

    /// <summary>s_f: the sparsity reached at the end step.</summary>
    public double FinalSparsity { get; }

    /// <summary>t₀.</summary>
    public long StartStep { get; }

    /// <summary>t₀ + n·Δt.</summary>
    public long EndStep { get; }

    /// <summary>Δt: steps between prunings.</summary>
    public long Frequency { get; }

    /// <inheritdoc />
    public bool ShouldPrune(long step) =>
        step >= StartStep && step <= EndStep && ((step - StartStep) % Frequency == 0 || step == EndStep);

    /// <inheritdoc />
    public double SparsityAt(long step)
    {
        if (step < StartStep) return 0;
        if (step >= EndStep) return FinalSparsity;
        long last = StartStep + (step - StartStep) / Frequency * Frequency;
        double progress = (double)(last - StartStep) / (EndStep - StartStep);
        return FinalSparsity + (InitialSparsity - FinalSparsity) * Math.Pow(1 - progress, 3);
    }
}
