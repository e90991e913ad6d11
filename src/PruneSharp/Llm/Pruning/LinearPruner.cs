using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// One entry point for the layer-by-layer driver: prunes a linear weight [out, in] with the chosen method from the
/// statistics of its input, optionally refining the mask with DSnoT (magnitude and Wanda masks only: SparseGPT has
/// already changed the kept weights).
/// </summary>
public static class LinearPruner
{
    /// <summary>Prunes <paramref name="weight"/> (not modified); returns a new weight and mask.</summary>
    /// <exception cref="PruningException">The request does not fit (shapes, missing Hessian, DSnoT after SparseGPT).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static PrunedLinear Prune(LinearPruningMethod method, Tensor weight, InputStatistics inputs, SparsityPattern pattern,
        SparseGptOptions? sparseGpt = null, DsnotOptions? dsnot = null, CancellationToken cancellation = default)
    {
        if (dsnot is not null && method == LinearPruningMethod.SparseGpt)
            throw new PruningException("DSnoT refines magnitude or Wanda masks; SparseGPT has already updated the kept weights");
        if (inputs.Tokens == 0) throw new PruningException("no calibration inputs were added to the input statistics");
        PrunedLinear result;
        switch (method)
        {
            case LinearPruningMethod.Magnitude:
                result = MagnitudePruning.Prune(weight, pattern);
                break;
            case LinearPruningMethod.Wanda:
                result = WandaPruning.Prune(weight, inputs, pattern);
                break;
            case LinearPruningMethod.SparseGpt:
                using (var h = inputs.Hessian(weight.dtype)) // a fresh copy: SparseGPT dampens and frees it
                    return SparseGpt.Prune(weight, h, consumeHessian: true, pattern, sparseGpt, cancellation);
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "unknown linear pruning method");
        }
        if (dsnot is null) return result;
        using (result)
        {
            var mask = Dsnot.Refine(weight, result.Mask, inputs, pattern, dsnot, cancellation);
            return new PrunedLinear(weight.detach().mul(mask), mask);
        }
    }
}
