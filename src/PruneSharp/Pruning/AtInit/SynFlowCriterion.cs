using PruneSharp.Data;
using PruneSharp.Pruning.Criteria;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.AtInit;

/// <summary>
/// SynFlow, iterative synaptic flow pruning (Tanaka et al. 2020, "Pruning neural networks without any data by
/// iteratively conserving synaptic flow"). Data-free: every parameter is replaced by its absolute value (signs are
/// restored afterwards), the network runs in evaluation mode (BatchNorm with its running statistics) on one all-ones
/// input of the model's input shape, R = Σ outputs, and the score of w is ∂R/∂w ⊙ w. For a network of positive
/// linear layers and ReLUs without biases the scores are conserved: the summed scores of the weights into a layer
/// equal those out of it, so no layer is favoured for its size; repeated over many rounds on an exponential schedule
/// (<see cref="PruningAtInitialization"/>, 100 rounds by default) this avoids layer collapse. Computed in float32
/// (the graph runs at its input's type): a non-finite or zero R is refused with the reason.
/// Only the batches' input shape is read, never their values.
/// </summary>
public sealed class SynFlowCriterion : Criterion, IObservingCriterion
{
    /// <summary>The statistic name of the scores in a <see cref="ScoringContext"/>.</summary>
    public const string Statistic = "synflow";

    /// <inheritdoc />
    public override string Name => "synflow";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context) => context.Statistic(Statistic, name).detach().to(ScalarType.Float32);

    /// <inheritdoc />
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters)
    {
        if (batches.Count == 0) throw new PruningException("SynFlow reads the model's input shape from a batch; give it one (its values are not used)");
        var shape = batches[0].Inputs.shape.ToArray();
        shape[0] = 1;
        return ScoringContext.OfStatistic(Statistic, Scores(model, shape, parameters));
    }

    /// <summary>The SynFlow scores of <paramref name="parameters"/> for an all-ones input of <paramref name="inputShape"/> (batch included).</summary>
    /// <exception cref="PruningException">R is not finite and positive (overflow or underflow in float32, or no path left).</exception>
    public static Dictionary<string, Tensor> Scores(nn.Module<Tensor, Tensor> model, long[] inputShape, IReadOnlyCollection<string> parameters)
    {
        var all = model.named_parameters().ToList();
        var byName = all.ToDictionary(p => p.name, p => p.parameter);
        foreach (string name in parameters)
            if (!byName.ContainsKey(name)) throw new PruningException($"the model has no parameter '{name}'");
        var originals = new List<Tensor>();
        bool training = model.training;
        model.eval();
        try
        {
            using (no_grad())
                foreach (var (_, parameter) in all)
                {
                    originals.Add(parameter.detach().clone());
                    parameter.abs_();
                }
            using var scope = NewDisposeScope();
            model.zero_grad();
            var device = all.Count > 0 ? all[0].parameter.device : CPU;
            var r = model.call(ones(inputShape, device: device)).sum();
            double value = r.to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(value) || value <= 0)
                throw new PruningException($"SynFlow's R = Σ outputs is {value} in float32 for the sign-stripped network: " +
                    (double.IsFinite(value) ? "no path from input to output is left (or it underflowed)" : "it overflowed; the network is too deep for float32 scoring"));
            r.backward();
            var scores = new Dictionary<string, Tensor>();
            foreach (string name in parameters)
            {
                var parameter = byName[name];
                var grad = parameter.grad ?? zeros_like(parameter);
                scores[name] = (grad * parameter.detach()).abs().to(ScalarType.Float32).MoveToOuterDisposeScope();
            }
            return scores;
        }
        finally
        {
            using (no_grad())
                for (int i = 0; i < originals.Count; i++)
                {
                    all[i].parameter.copy_(originals[i]);
                    originals[i].Dispose();
                }
            model.zero_grad();
            model.train(training);
        }
    }
}
