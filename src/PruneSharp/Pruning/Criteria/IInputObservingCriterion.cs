using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// A criterion that observes only what the model computes from its inputs (activations), never a label or a loss:
/// it scores on unlabeled data, for models of any number of inputs.
/// </summary>
public interface IInputObservingCriterion
{
    /// <summary>
    /// Runs <paramref name="model"/> in evaluation mode on <paramref name="batches"/> (one tensor per graph input, in
    /// the graph's order) and returns the context for scoring the parameters named in <paramref name="parameters"/>.
    /// </summary>
    /// <exception cref="PruningException">The model or the data does not fit the criterion (the message says why).</exception>
    ScoringContext ObserveInputs(GraphModule model, IReadOnlyList<IReadOnlyList<Tensor>> batches, IReadOnlyCollection<string> parameters);
}
