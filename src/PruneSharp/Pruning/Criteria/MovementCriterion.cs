using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// Movement pruning (Sanh, Wolf &amp; Rush 2020, "Movement Pruning: Adaptivity by Fine-Tuning"), first order: the score
/// of w is S = −Σ_t w_t · ∂L/∂w_t, summed over the fine-tuning steps t seen so far, so weights that training moves away
/// from zero score high and weights it pulls towards zero score low, whatever their magnitude. The criterion is also
/// the <see cref="ITrainingCallback"/> that accumulates S: add it to the fine-tune's trainer; at each step, after
/// backward and before the optimizer step, it adds −w ⊙ g for every weight it tracks (pruned weights are zero and add
/// nothing). Scores may be negative. Scoring before any step is refused. S travels in checkpoints.
/// </summary>
public sealed class MovementCriterion : Criterion, ITrainingCallback
{
    const string Prefix = "movement/";
    readonly Dictionary<string, Tensor> _scores = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string Name => "movement";

    /// <summary>Optimizer steps accumulated.</summary>
    public long Steps { get; private set; }

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context) =>
        _scores.TryGetValue(name, out var score) ? score.to(ScalarType.Float32)
            : throw new PruningException($"movement scores '{name}' by how fine-tuning moves it, and no fine-tuning step has been accumulated for it (movement needs --finetune-epochs)");

    /// <inheritdoc />
    public void OnBeforeOptimizerStep(TrainingContext context)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in context.Model.named_parameters())
        {
            if (parameter.dim() < 2 || parameter.grad is not { } grad) continue;
            if (!_scores.TryGetValue(name, out var score))
                _scores[name] = score = zeros_like(parameter, dtype: ScalarType.Float32).DetachFromDisposeScope();
            score.sub_(parameter.detach().to(ScalarType.Float32) * grad.to(ScalarType.Float32));
        }
        Steps++;
    }

    /// <inheritdoc />
    public void SaveState(IDictionary<string, Tensor> extra)
    {
        foreach (var (name, score) in _scores) extra[Prefix + name] = score;
    }

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> extra)
    {
        foreach (var (key, value) in extra.Where(kv => kv.Key.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            if (_scores.TryGetValue(key[Prefix.Length..], out var old)) old.Dispose();
            _scores[key[Prefix.Length..]] = value.to(ScalarType.Float32).clone().DetachFromDisposeScope();
        }
    }
}
