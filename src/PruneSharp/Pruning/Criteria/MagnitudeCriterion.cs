using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>Magnitude: score |w|; a unit's score is the sum of its magnitudes (its L1 norm).</summary>
public sealed class MagnitudeCriterion : Criterion
{
    /// <inheritdoc />
    public override string Name => "magnitude";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context) => weight.detach().abs().to(ScalarType.Float32);
}
