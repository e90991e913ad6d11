using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// The result of pruning one linear layer: the new weight [out, in] (zeros where pruned; SparseGPT also changes the
/// kept weights) and its keep-mask (bool, true = kept). Both are new tensors owned by the caller.
/// </summary>
public sealed record PrunedLinear(Tensor Weight, Tensor Mask) : IDisposable
{
    /// <summary>The fraction of pruned weights.</summary>
    public double Sparsity => 1 - (double)Mask.count_nonzero().item<long>() / Mask.numel();

    /// <inheritdoc />
    public void Dispose()
    {
        Weight.Dispose();
        Mask.Dispose();
    }
}
