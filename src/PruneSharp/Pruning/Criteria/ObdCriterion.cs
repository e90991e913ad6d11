using PruneSharp.Data;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// Optimal Brain Damage (LeCun, Denker &amp; Solla 1990): the loss grows by about ½ h_ii w_i² when weight i is removed
/// from a minimum, with h_ii the Hessian's diagonal. Here h_ii is the diagonal empirical Fisher
/// F_ii = (1/B) Σ_b (∂L_b/∂w_i)², the mean of squared per-batch gradients over B batches, so the score is ½ w² F.
/// </summary>
public sealed class ObdCriterion : Criterion, IObservingCriterion
{
    /// <inheritdoc />
    public override string Name => "obd";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context)
    {
        var fisher = context.Statistic(GradientStatistics.SquaredGradientStatistic, name).detach().to(ScalarType.Float32);
        return 0.5f * weight.detach().to(ScalarType.Float32).square() * fisher;
    }

    /// <inheritdoc />
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters) =>
        GradientStatistics.Collect(model, batches, parameters).Context();
}
