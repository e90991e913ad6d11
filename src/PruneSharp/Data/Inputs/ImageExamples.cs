using static TorchSharp.torch;

namespace PruneSharp.Data.Inputs;

/// <summary>The images of a data set as examples of one model input, their labels ignored (no augmentation).</summary>
/// <param name="images">The images (normalised as the data set says).</param>
/// <param name="name">The model input they feed.</param>
public sealed class ImageExamples(ImageDataset images, string name) : IInputExamples
{
    /// <inheritdoc/>
    public int Count => images.Count;

    /// <inheritdoc/>
    public IReadOnlyList<string> Names { get; } = new[] { name };

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Tensor> Batch(IReadOnlyList<int> indices)
    {
        var batch = images.GetBatch(indices);
        batch.Targets.Dispose();
        return new Dictionary<string, Tensor> { [name] = batch.Inputs };
    }
}
