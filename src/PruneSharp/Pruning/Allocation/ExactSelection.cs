using static TorchSharp.torch;

namespace PruneSharp.Pruning.Allocation;

/// <summary>Selecting exactly k of n scores without sorting them all.</summary>
public static class ExactSelection
{
    /// <summary>
    /// The keep-mask (bool) of 1-D <paramref name="scores"/> after removing exactly <paramref name="k"/> lowest
    /// scores; among equal scores the lower index is removed first. Runs in linear time (one k-th value, one
    /// cumulative sum): no per-element loop and no full sort.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is not in [0, n].</exception>
    public static Tensor KeepAllButLowest(Tensor scores, long k)
    {
        long n = scores.numel();
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"cannot remove {k} of {n} scores");
        if (k == 0) return ones(n, dtype: ScalarType.Bool, device: scores.device);
        if (k == n) return zeros(n, dtype: ScalarType.Bool, device: scores.device);
        using var scope = NewDisposeScope();
        var threshold = scores.kthvalue(k, 0).values;
        var below = scores.lt(threshold);
        long remaining = k - below.sum().item<long>();
        var ties = scores.eq(threshold);
        var removedTies = ties.logical_and(ties.cumsum(0, ScalarType.Int64).le(remaining));
        return below.logical_or(removedTies).logical_not().MoveToOuterDisposeScope();
    }

    /// <summary>round(s·n) with ties to even: the number of units pruned at sparsity <paramref name="sparsity"/> of <paramref name="count"/>.</summary>
    public static long PrunedCount(double sparsity, long count) => (long)Math.Round(sparsity * count, MidpointRounding.ToEven);
}
