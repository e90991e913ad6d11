using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// Scores the importance of each weight of one parameter: higher means keep. A granularity then sums (or otherwise
/// <see cref="ReduceUnits">reduces</see>) the element scores of each unit (block, kernel), and a scope thresholds
/// the units. Scores must be finite; most are non-negative, but some criteria (GraSP, loss change, movement) give
/// signed scores, which rank the same way (the lowest go first). Criteria that need data read it from the
/// <see cref="ScoringContext"/> (gradients, activations), so new ones plug in without changing the engine.
/// </summary>
public abstract class Criterion
{
    /// <summary>A short name, e.g. <c>magnitude</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Element scores of parameter <paramref name="name"/> with value <paramref name="weight"/>: a float tensor of the same shape.</summary>
    public abstract Tensor Score(string name, Tensor weight, ScoringContext context);

    /// <summary>
    /// One score per unit from the element scores of each unit (rows of <paramref name="units"/>, [units, size]).
    /// Pruned elements arrive as 0. The default is the sum.
    /// </summary>
    public virtual Tensor ReduceUnits(Tensor units) => units.sum(1);

    /// <inheritdoc />
    public override string ToString() => Name;
}
