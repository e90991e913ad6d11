using static TorchSharp.torch;

namespace PruneSharp.Data.Inputs;

/// <summary>
/// Unlabeled examples of a model's inputs, by input name: what calibration, data-driven criteria and distillation feed
/// a model when there are no labels. One example may span several inputs (a tokenised sentence is <c>input_ids</c>,
/// <c>attention_mask</c> and <c>token_type_ids</c>); <see cref="GraphFeed"/> arranges them as a graph's inputs.
/// Implemented by <see cref="TensorExamples"/> (arrays, e.g. from .npy/.npz), <see cref="TokenizedText"/> (lines of
/// text) and <see cref="ImageExamples"/> (images, labels ignored).
/// </summary>
public interface IInputExamples
{
    /// <summary>Number of examples.</summary>
    int Count { get; }

    /// <summary>The inputs every batch holds, by name.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>The examples at <paramref name="indices"/>, each input stacked along its first dimension. The caller disposes them.</summary>
    IReadOnlyDictionary<string, Tensor> Batch(IReadOnlyList<int> indices);
}
