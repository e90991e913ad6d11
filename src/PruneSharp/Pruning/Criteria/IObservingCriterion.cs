using PruneSharp.Data;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// A criterion that observes the model on data before it scores: it runs the model (forward, backward, double
/// backward or masked forwards, as its method needs) and returns the <see cref="ScoringContext"/> it scores from.
/// Callers observe right before each pruning step, with the current masks applied, so iterative methods rescore the
/// survivors. The model is run in evaluation mode (BatchNorm uses its running statistics; nothing in the model
/// changes) and its gradients are left cleared.
/// </summary>
public interface IObservingCriterion
{
    /// <summary>
    /// Observes <paramref name="model"/> (logits out) on <paramref name="batches"/> and returns the context for
    /// scoring the parameters named in <paramref name="parameters"/>.
    /// </summary>
    /// <exception cref="PruningException">The model or the data does not fit the criterion (the message says why).</exception>
    ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters);
}
