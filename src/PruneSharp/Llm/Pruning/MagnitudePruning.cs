using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// Magnitude pruning of a linear layer, the baseline of the LLM pruning papers: score |W_ij|, compared over the whole
/// matrix (the per-layer comparison group of Wanda's magnitude baseline, Sun et al. 2023, Figure 1) for unstructured
/// sparsity, within each group of M inputs for N:M.
/// </summary>
public static class MagnitudePruning
{
    /// <summary>Prunes <paramref name="weight"/> [out, in] (not modified) to <paramref name="pattern"/>; returns a new weight and mask.</summary>
    /// <exception cref="PruningException">The weight is not a float matrix, or M does not divide its input width.</exception>
    public static PrunedLinear Prune(Tensor weight, SparsityPattern pattern)
    {
        MaskSelection.CheckWeight(weight, pattern);
        using var scope = NewDisposeScope();
        var scores = weight.detach().abs();
        var keep = pattern.IsNM ? MaskSelection.KeepNM(scores, pattern.N, pattern.M) : MaskSelection.KeepPerMatrix(scores, pattern.Sparsity);
        var pruned = weight.detach().mul(keep);
        return new PrunedLinear(pruned.MoveToOuterDisposeScope(), keep.MoveToOuterDisposeScope());
    }
}
