namespace PruneSharp.Pruning.Regularization;

/// <summary>
/// The penalty strength λ at every optimizer step: constant, or raised linearly from λ/W at the first step to λ at
/// step W (a warm-up, so the penalty does not fight the early fit) and constant after.
/// </summary>
/// <param name="Lambda">λ after the warm-up.</param>
/// <param name="WarmupSteps">Steps of the linear warm-up (0: constant from the start).</param>
public sealed record PenaltySchedule(double Lambda, long WarmupSteps = 0)
{
    /// <summary>λ for the optimizer step that follows <paramref name="stepsTaken"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">λ is negative or not finite, or the warm-up is negative.</exception>
    public double At(long stepsTaken)
    {
        if (!(Lambda >= 0 && double.IsFinite(Lambda))) throw new ArgumentOutOfRangeException(nameof(Lambda), Lambda, "the penalty must be a finite non-negative number");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "the warm-up must be non-negative");
        return WarmupSteps == 0 ? Lambda : Lambda * Math.Min(1.0, (stepsTaken + 1) / (double)WarmupSteps);
    }
}
