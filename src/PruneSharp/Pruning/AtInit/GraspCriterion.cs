using PruneSharp.Data;
using PruneSharp.Pruning.Criteria;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.AtInit;

/// <summary>
/// GraSP, gradient signal preservation (Wang, Zhang &amp; Grosse 2020, "Picking Winning Tickets Before Training by
/// Preserving Gradient Flow"). Removing weights δ = −w changes the gradient norm gᵀg by about 2δᵀHg, so the paper
/// scores S(−w) = −w ⊙ Hg and removes the weights with the <em>highest</em> S: their removal reduces the gradient
/// flow least (or even increases it). This engine keeps the highest scores, so the score here is −S = w ⊙ Hg:
/// pruning its lowest values is the paper's rule. Scores may be negative. Hg comes from
/// <see cref="HessianGradientProduct"/> (double backward) over the observed batches.
/// </summary>
public sealed class GraspCriterion : Criterion, IObservingCriterion
{
    /// <summary>The statistic name of Hg in a <see cref="ScoringContext"/>.</summary>
    public const string Statistic = "hessian-gradient";

    /// <inheritdoc />
    public override string Name => "grasp";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context) =>
        (weight.detach() * context.Statistic(Statistic, name).detach()).to(ScalarType.Float32);

    /// <inheritdoc />
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters)
    {
        var (product, _) = HessianGradientProduct.Compute(model, batches, parameters.ToList());
        return ScoringContext.OfStatistic(Statistic, product);
    }
}
