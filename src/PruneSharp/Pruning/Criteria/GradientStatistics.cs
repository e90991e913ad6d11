using PruneSharp.Data;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// Per-parameter gradient statistics over B batches, one backward pass each (evaluation mode, mean loss of each batch):
/// the mean gradient ḡ = (1/B) Σ_b g_b (what SNIP scores with), the mean of squared per-batch gradients
/// F = (1/B) Σ_b g_b² (the diagonal empirical Fisher that OBD uses), and the mean first-order term
/// T = (1/B) Σ_b |w ⊙ g_b| (the accumulated Taylor criterion). All in float64, returned as float32.
/// </summary>
public sealed class GradientStatistics
{
    /// <summary>The statistic name of <see cref="SquaredGradient"/> in a <see cref="ScoringContext"/>.</summary>
    public const string SquaredGradientStatistic = "squared-gradient";

    /// <summary>The statistic name of <see cref="Taylor"/> in a <see cref="ScoringContext"/>.</summary>
    public const string TaylorStatistic = "taylor";

    GradientStatistics(Dictionary<string, Tensor> mean, Dictionary<string, Tensor> squared, Dictionary<string, Tensor> taylor, int batches)
    {
        Mean = mean;
        SquaredGradient = squared;
        Taylor = taylor;
        Batches = batches;
    }

    /// <summary>ḡ per parameter.</summary>
    public IReadOnlyDictionary<string, Tensor> Mean { get; }

    /// <summary>(1/B) Σ_b g_b² per parameter.</summary>
    public IReadOnlyDictionary<string, Tensor> SquaredGradient { get; }

    /// <summary>(1/B) Σ_b |w ⊙ g_b| per parameter.</summary>
    public IReadOnlyDictionary<string, Tensor> Taylor { get; }

    /// <summary>B, the number of batches observed.</summary>
    public int Batches { get; }

    /// <summary>A context whose gradients are ḡ and whose statistics are F and T.</summary>
    public ScoringContext Context() => new(
        gradients: name => Mean.GetValueOrDefault(name),
        statistics: (kind, name) => kind switch
        {
            SquaredGradientStatistic => SquaredGradient.GetValueOrDefault(name),
            TaylorStatistic => Taylor.GetValueOrDefault(name),
            _ => null,
        });

    /// <summary>Collects the statistics of <paramref name="parameters"/> over <paramref name="batches"/>.</summary>
    /// <param name="model">Maps inputs to logits.</param>
    /// <param name="batches">At least one batch.</param>
    /// <param name="parameters">The parameters to collect for (others are not kept).</param>
    /// <param name="loss">The batch loss (default: cross-entropy).</param>
    /// <exception cref="PruningException">No batch, or a named parameter is missing.</exception>
    public static GradientStatistics Collect(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters,
        LossFunction? loss = null)
    {
        if (batches.Count == 0) throw new PruningException("gradient statistics need at least one batch of data");
        loss ??= Losses.CrossEntropy;
        var byName = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (string name in parameters)
            if (!byName.ContainsKey(name)) throw new PruningException($"the model has no parameter '{name}'");
        var sum = parameters.ToDictionary(n => n, n => zeros_like(byName[n], dtype: ScalarType.Float64));
        var squares = parameters.ToDictionary(n => n, n => zeros_like(byName[n], dtype: ScalarType.Float64));
        var taylor = parameters.ToDictionary(n => n, n => zeros_like(byName[n], dtype: ScalarType.Float64));
        bool training = model.training;
        model.eval();
        try
        {
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                model.zero_grad();
                var output = model.call(batch.Inputs);
                loss(output, batch.Targets).backward();
                using var _ = no_grad();
                foreach (string name in parameters)
                {
                    var parameter = byName[name];
                    if (parameter.grad is not { } grad) continue;
                    var g = grad.to(ScalarType.Float64);
                    sum[name].add_(g);
                    squares[name].add_(g.square());
                    taylor[name].add_((parameter.detach().to(ScalarType.Float64) * g).abs_());
                }
            }
        }
        finally
        {
            model.zero_grad();
            model.train(training);
        }
        Dictionary<string, Tensor> Mean(Dictionary<string, Tensor> totals) =>
            totals.ToDictionary(kv => kv.Key, kv => (kv.Value / batches.Count).to(ScalarType.Float32));
        return new GradientStatistics(Mean(sum), Mean(squares), Mean(taylor), batches.Count);
    }
}
