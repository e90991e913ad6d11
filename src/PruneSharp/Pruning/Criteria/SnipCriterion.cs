using PruneSharp.Data;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// SNIP connection sensitivity (Lee et al. 2019, "SNIP: Single-shot Network Pruning based on Connection
/// Sensitivity"): score |w · ∂L/∂w|, the first-order change of the loss when the weight is removed, with the
/// gradient taken from the <see cref="ScoringContext"/>. <see cref="Observe"/> gives the gradient averaged over
/// the batches it is shown (one mini-batch at initialisation in the paper).
/// </summary>
public sealed class SnipCriterion : Criterion, IObservingCriterion
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

    /// <inheritdoc />
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters) =>
        GradientStatistics.Collect(model, batches, parameters).Context();
}
