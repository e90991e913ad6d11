using PruneSharp.Data;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// First-order Taylor expansion of the loss, accumulated over batches (Molchanov et al. 2017, "Pruning Convolutional
/// Neural Networks for Resource Efficient Inference", applied to single weights): score (1/B) Σ_b |w · ∂L_b/∂w|,
/// the mean over B batches of the absolute first-order change of each batch's loss when the weight is removed.
/// Unlike SNIP (|w · ḡ|, the gradient averaged first) the absolute value is taken per batch, so a weight whose
/// batch gradients cancel still scores high.
/// </summary>
public sealed class TaylorCriterion : Criterion, IObservingCriterion
{
    /// <inheritdoc />
    public override string Name => "taylor";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context) =>
        context.Statistic(GradientStatistics.TaylorStatistic, name).detach().to(ScalarType.Float32);

    /// <inheritdoc />
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters) =>
        GradientStatistics.Collect(model, batches, parameters).Context();
}
