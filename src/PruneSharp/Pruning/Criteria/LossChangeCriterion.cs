using PruneSharp.Data;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// The loss change of actually removing a unit (the optimisation-based view of pruning, measured instead of
/// approximated): for each output channel or neuron u of a layer, every weight that computes u is set to zero, the
/// loss on one validation batch is measured, and the weights are restored; the score of those weights is
/// ΔL_u = L(without u) − L (negative when removing the unit helps). The bias of u is left as it is, as a weight
/// mask leaves it. One forward pass per unit, so it is for small models: more than <see cref="MaxUnits"/> units in
/// all are refused rather than run for hours. With element granularity the weights of a unit tie, so whole units
/// go first, lowest ΔL first.
/// </summary>
public sealed class LossChangeCriterion(int maxUnits = 4096) : Criterion, IObservingCriterion
{
    /// <summary>The statistic name of the broadcast loss changes in a <see cref="ScoringContext"/>.</summary>
    public const string Statistic = "loss-change";

    /// <summary>The most units (forward passes) one observation may cost.</summary>
    public int MaxUnits { get; } = maxUnits >= 1 ? maxUnits : throw new ArgumentOutOfRangeException(nameof(maxUnits), maxUnits, "the unit cap must be at least 1");

    /// <inheritdoc />
    public override string Name => "loss-change";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context) => context.Statistic(Statistic, name).detach().to(ScalarType.Float32);

    /// <summary>Measures ΔL of every output unit of <paramref name="parameters"/> on the first of <paramref name="batches"/> (the validation batch).</summary>
    /// <exception cref="PruningException">No batch, or more units than <see cref="MaxUnits"/>.</exception>
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters)
    {
        if (batches.Count == 0) throw new PruningException("loss change needs a validation batch");
        var layouts = LayerWeights.Of(model);
        var byName = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (string name in parameters)
            if (!byName.ContainsKey(name)) throw new PruningException($"the model has no parameter '{name}'");
        long units = parameters.Sum(n => byName[n].dim() == 0 ? 1 : byName[n].shape[layouts.Of(n).OutputAxis]);
        if (units > MaxUnits)
            throw new PruningException($"loss change masks one unit per forward pass, and the layers to prune have {units} output units in all, over the cap of {MaxUnits}; raise the cap or prune fewer layers");
        var batch = batches[0];
        var scores = new Dictionary<string, Tensor>();
        bool training = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            double Loss() => Losses.CrossEntropy(model.call(batch.Inputs), batch.Targets).to(ScalarType.Float64).item<double>();
            double baseline = Loss();
            foreach (string name in parameters)
            {
                var weight = byName[name];
                int axis = layouts.Of(name).OutputAxis;
                var deltas = new double[weight.shape[axis]];
                for (long u = 0; u < deltas.Length; u++)
                {
                    using var scope = NewDisposeScope();
                    var slice = weight.select(axis, u);
                    var saved = slice.clone();
                    slice.zero_();
                    try
                    {
                        deltas[u] = Loss() - baseline;
                    }
                    finally
                    {
                        slice.copy_(saved);
                    }
                }
                var shape = Enumerable.Repeat(1L, (int)weight.dim()).ToArray();
                shape[axis] = deltas.Length;
                scores[name] = tensor(deltas, dtype: ScalarType.Float32).reshape(shape).expand(weight.shape).contiguous();
            }
        }
        finally
        {
            model.train(training);
        }
        return ScoringContext.OfStatistic(Statistic, scores);
    }
}
