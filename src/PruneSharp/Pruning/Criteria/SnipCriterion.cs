using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// SNIP connection sensitivity: score |w · ∂L/∂w|, the first-order change of the loss when the weight is removed,
/// with the gradient taken from the <see cref="ScoringContext"/> (e.g. one mini-batch at initialisation).
/// </summary>
public sealed class SnipCriterion : Criterion
{
    /// <inheritdoc />
    public override string Name => "snip";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context)
    {
        var gradient = context.Gradient(name);
        if (!gradient.shape.SequenceEqual(weight.shape))
            throw new PruningException($"gradient of '{name}' has shape [{string.Join(",", gradient.shape)}], the weight has [{string.Join(",", weight.shape)}]");
        return (weight.detach() * gradient.detach()).abs().to(ScalarType.Float32);
    }
}
