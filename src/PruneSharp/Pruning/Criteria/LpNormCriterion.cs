using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// Lp norm over a unit: element score |w|^p, unit score (Σ|w|^p)^(1/p); p = ∞ gives the largest magnitude. For
/// single elements this ranks exactly like magnitude; for blocks and kernels p chooses how much one large weight counts.
/// </summary>
public sealed class LpNormCriterion : Criterion
{
    /// <summary>Creates the criterion for norm order <paramref name="p"/> (&gt; 0, or +∞).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not positive.</exception>
    public LpNormCriterion(double p)
    {
        if (!(p > 0)) throw new ArgumentOutOfRangeException(nameof(p), p, "the norm order p must be > 0 (or +infinity)");
        P = p;
    }

    /// <summary>The norm order.</summary>
    public double P { get; }

    /// <inheritdoc />
    public override string Name => double.IsPositiveInfinity(P) ? "linf" : $"l{P}";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context)
    {
        var magnitude = weight.detach().abs().to(ScalarType.Float32);
        return double.IsPositiveInfinity(P) || P == 1 ? magnitude : magnitude.pow(P);
    }

    /// <inheritdoc />
    public override Tensor ReduceUnits(Tensor units) =>
        double.IsPositiveInfinity(P) ? units.amax(new long[] { 1 }) : P == 1 ? units.sum(1) : units.sum(1).pow(1 / P);
}
