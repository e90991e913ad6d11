using static TorchSharp.torch;

namespace PruneSharp.Data;

/// <summary>One mini-batch: inputs and targets, stacked along the first dimension. Disposing it frees both tensors.</summary>
/// <param name="Inputs">Images <c>[N, C, H, W]</c> (float32, normalised) or token ids <c>[N, T]</c> (int64).</param>
/// <param name="Targets">Class indices <c>[N]</c> or next-token ids <c>[N, T]</c> (int64).</param>
public sealed record Batch(Tensor Inputs, Tensor Targets) : IDisposable
{
    /// <summary>Number of examples in the batch.</summary>
    public int Count => (int)Inputs.shape[0];

    /// <inheritdoc/>
    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}
