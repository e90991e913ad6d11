using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Granularity;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// Keep-masks from scores of a linear weight [out, in] (higher = more important), with exact counts: a comparison
/// group of n weights at sparsity s loses round(s·n) weights (half to even), the lowest scores first, and among equal
/// scores the lower index goes first. N:M keeps the N highest of each group of M inputs (among equal scores the lower
/// index is kept, as <see cref="NMGranularity"/>).
/// </summary>
public static class MaskSelection
{
    /// <summary>Prunes round(s·in) lowest scores of every output row (Wanda's comparison group).</summary>
    public static Tensor KeepPerRow(Tensor scores, double sparsity)
    {
        long rows = scores.shape[0], columns = scores.shape[1];
        long pruned = ExactSelection.PrunedCount(sparsity, columns);
        if (pruned == 0) return ones(rows, columns, dtype: ScalarType.Bool);
        if (pruned == columns) return zeros(rows, columns, dtype: ScalarType.Bool);
        using var scope = NewDisposeScope();
        // Linear time per row instead of a sort: the k-th smallest score t of each row; everything below t goes, and
        // of the scores equal to t the first ones by index (counted with a running sum) until k are gone.
        var threshold = scores.kthvalue(pruned, 1, keepdim: true).values;
        var below = scores.lt(threshold);
        var tied = scores.eq(threshold);
        var tiesToPrune = below.sum(dim: 1, keepdim: true).neg_().add_(pruned);
        var prunedTies = tied.logical_and(tied.cumsum(1).le(tiesToPrune));
        return below.logical_or_(prunedTies).logical_not_().MoveToOuterDisposeScope();
    }

    /// <summary>Prunes round(s·out·in) lowest scores of the whole matrix (ties: lower row-major index first).</summary>
    public static Tensor KeepPerMatrix(Tensor scores, double sparsity) =>
        ExactSelection.KeepAllButLowest(scores.reshape(-1), ExactSelection.PrunedCount(sparsity, scores.numel())).reshape(scores.shape);

    /// <summary>Keeps the N highest scores of every M consecutive inputs of each row.</summary>
    /// <exception cref="PruningException">M does not divide the input width.</exception>
    public static Tensor KeepNM(Tensor scores, int n, int m)
    {
        if (scores.shape[1] % m != 0)
            throw new PruningException($"{n}:{m} sparsity needs M={m} to divide the input width, which is {scores.shape[1]}");
        return new NMGranularity(n, m).SelectKeep(scores.reshape(-1, m)).reshape(scores.shape);
    }

    /// <summary>Checks that <paramref name="weight"/> is a float matrix with <paramref name="features"/> inputs (when given) and fits the pattern.</summary>
    /// <exception cref="PruningException">It is not; the message says what differs.</exception>
    public static void CheckWeight(Tensor weight, SparsityPattern pattern, long? features = null)
    {
        if (weight.dim() != 2 || !is_floating_point(weight))
            throw new PruningException($"a linear weight is a floating-point matrix [out, in]; got {weight.dtype} of shape [{string.Join(",", weight.shape)}]");
        if (features is long f && weight.shape[1] != f)
            throw new PruningException($"weight of shape [{string.Join(",", weight.shape)}] has {weight.shape[1]} inputs, but the calibration statistics have {f} features");
        if (pattern.IsNM && weight.shape[1] % pattern.M != 0)
            throw new PruningException($"{pattern} sparsity needs M={pattern.M} to divide the input width, which is {weight.shape[1]}");
    }
}
