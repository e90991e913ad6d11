using PruneSharp.Data;
using static TorchSharp.torch;

namespace PruneSharp.Recovery;

/// <summary>
/// A finite, indexable source of unlabeled model inputs: what distillation and fidelity feed both models. Any data
/// the model can read plugs in (a labelled data set with its labels ignored, token sequences, arrays of several inputs).
/// </summary>
public interface IInputSource
{
    /// <summary>Number of examples.</summary>
    int Count { get; }

    /// <summary>
    /// The examples at <paramref name="indices"/>, stacked along the first dimension: one tensor per graph input, in
    /// the graph's input order. The caller disposes them.
    /// </summary>
    IReadOnlyList<Tensor> Inputs(IReadOnlyList<int> indices);
}

/// <summary>The inputs of a labelled data set, its labels ignored (for single-input models).</summary>
/// <param name="data">The data set (no augmentation is applied).</param>
public sealed class DatasetInputs(IDataset data) : IInputSource
{
    /// <inheritdoc/>
    public int Count => data.Count;

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> Inputs(IReadOnlyList<int> indices)
    {
        var batch = data.GetBatch(indices);
        batch.Targets.Dispose();
        return new[] { batch.Inputs };
    }
}
