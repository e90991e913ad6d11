namespace PruneSharp.Training;

/// <summary>
/// A learning rate as a pure function of the optimizer step (0 for the first update). Because it holds no state,
/// a schedule is saved by saving the step, restored by restoring it, and rewound (Lottery Ticket learning-rate
/// rewinding) by moving the step back. Steps count optimizer updates, not epochs: multiply epochs by batches per epoch.
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>The learning rate for optimizer step <paramref name="step"/> (non-negative).</summary>
    public abstract double At(long step);

    /// <summary>This schedule preceded by <paramref name="steps"/> of linear warm-up from <c>At(0) / steps</c> up to <c>At(0)</c>; this schedule then starts at its own step 0.</summary>
    public LearningRateSchedule WithWarmup(long steps) => new WarmupSchedule(steps, this);
}

/// <summary>The same rate at every step.</summary>
/// <param name="Rate">The learning rate.</param>
public sealed record ConstantSchedule(double Rate) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override double At(long step) => Rate;
}

/// <summary>Step decay: <c>rate · gamma^⌊step / stepSize⌋</c>.</summary>
/// <param name="Rate">Initial learning rate.</param>
/// <param name="StepSize">Steps between decays (positive).</param>
/// <param name="Gamma">Factor applied at each decay.</param>
public sealed record StepSchedule(double Rate, long StepSize, double Gamma = 0.1) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override double At(long step)
    {
        if (StepSize <= 0) throw new ArgumentOutOfRangeException(nameof(StepSize), StepSize, "step size must be positive");
        return Rate * Math.Pow(Gamma, step / StepSize);
    }
}

/// <summary>Multi-step decay: <c>rate · gamma^(number of milestones ≤ step)</c>.</summary>
/// <param name="Rate">Initial learning rate.</param>
/// <param name="Milestones">Steps at which the rate is multiplied by <paramref name="Gamma"/>.</param>
/// <param name="Gamma">Factor applied at each milestone.</param>
public sealed record MultiStepSchedule(double Rate, IReadOnlyList<long> Milestones, double Gamma = 0.1) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override double At(long step) => Rate * Math.Pow(Gamma, Milestones.Count(m => m <= step));
}

/// <summary>Cosine annealing: <c>min + (rate − min) · (1 + cos(π · min(step, total) / total)) / 2</c>.</summary>
/// <param name="Rate">Initial (maximum) learning rate.</param>
/// <param name="TotalSteps">Steps over which the rate falls to <paramref name="MinimumRate"/> (positive); it stays there afterwards.</param>
/// <param name="MinimumRate">Final learning rate.</param>
public sealed record CosineSchedule(double Rate, long TotalSteps, double MinimumRate = 0) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override double At(long step)
    {
        if (TotalSteps <= 0) throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "total steps must be positive");
        double progress = Math.Min(step, TotalSteps) / (double)TotalSteps;
        return MinimumRate + (Rate - MinimumRate) * (1 + Math.Cos(Math.PI * progress)) / 2;
    }
}

/// <summary>
/// Linear warm-up over <paramref name="Steps"/> steps to <paramref name="Then"/>'s first rate, after which
/// <paramref name="Then"/> runs from its own step 0: step <c>s &lt; W</c> gets <c>Then.At(0) · (s + 1) / W</c>,
/// step <c>s ≥ W</c> gets <c>Then.At(s − W)</c>.
/// </summary>
/// <param name="Steps">Warm-up length <c>W</c> (non-negative; 0 means none).</param>
/// <param name="Then">The schedule after warm-up.</param>
public sealed record WarmupSchedule(long Steps, LearningRateSchedule Then) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override double At(long step) => step < Steps ? Then.At(0) * (step + 1) / Steps : Then.At(step - Steps);
}

/// <summary>
/// One-cycle policy (Smith &amp; Topin, 2019): cosine rise from <c>max / divFactor</c> to <c>max</c> over the first
/// <paramref name="PercentStart"/> of the steps, then cosine fall to <c>max / (divFactor · finalDivFactor)</c> at the last step.
/// </summary>
/// <param name="MaxRate">Peak learning rate.</param>
/// <param name="TotalSteps">Length of the cycle (at least 2).</param>
/// <param name="PercentStart">Fraction of the cycle spent rising, in (0, 1).</param>
/// <param name="DivFactor">Initial rate is <c>max / DivFactor</c>.</param>
/// <param name="FinalDivFactor">Final rate is <c>initial / FinalDivFactor</c>.</param>
public sealed record OneCycleSchedule(double MaxRate, long TotalSteps, double PercentStart = 0.3, double DivFactor = 25, double FinalDivFactor = 1e4)
    : LearningRateSchedule
{
    /// <inheritdoc/>
    public override double At(long step)
    {
        if (TotalSteps < 2) throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "a one-cycle schedule needs at least 2 steps");
        if (!(PercentStart is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(PercentStart), PercentStart, "must be in (0, 1)");
        double initial = MaxRate / DivFactor, final = initial / FinalDivFactor;
        double peak = Math.Max(1, Math.Round(PercentStart * (TotalSteps - 1)));
        double s = Math.Min(step, TotalSteps - 1);
        return s <= peak
            ? Anneal(initial, MaxRate, s / peak)
            : Anneal(MaxRate, final, (s - peak) / (TotalSteps - 1 - peak));
    }

    static double Anneal(double from, double to, double t) => to + (from - to) * (1 + Math.Cos(Math.PI * t)) / 2;
}
