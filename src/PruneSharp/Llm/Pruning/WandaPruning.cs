using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// Wanda (Sun, Liu, Bair &amp; Kolter 2023, "A Simple and Effective Pruning Approach for Large Language Models"):
/// a weight matters in proportion to its magnitude times the size of the input it multiplies, so the score is
/// S_ij = |W_ij|·‖X_j‖₂, and weights are compared within each output row (unstructured) or within each group of M
/// inputs of a row (N:M). No weight is updated.
/// </summary>
public static class WandaPruning
{
    /// <summary>S = |W|·‖X_j‖₂ (broadcast over rows), from the squared column norms [in]; a new tensor.</summary>
    public static Tensor Scores(Tensor weight, Tensor columnNormsSquared) =>
        weight.detach().abs().mul_(columnNormsSquared.sqrt().unsqueeze(0));

    /// <summary>Prunes <paramref name="weight"/> [out, in] (not modified) with the calibration statistics of its input.</summary>
    /// <exception cref="PruningException">The weight does not fit the statistics or the pattern.</exception>
    public static PrunedLinear Prune(Tensor weight, InputStatistics inputs, SparsityPattern pattern)
    {
        MaskSelection.CheckWeight(weight, pattern, inputs.Features);
        using var scope = NewDisposeScope();
        var scores = Scores(weight, inputs.ColumnNormsSquared());
        var keep = pattern.IsNM ? MaskSelection.KeepNM(scores, pattern.N, pattern.M) : MaskSelection.KeepPerRow(scores, pattern.Sparsity);
        var pruned = weight.detach().masked_fill(keep.logical_not(), 0);
        return new PrunedLinear(pruned.MoveToOuterDisposeScope(), keep.MoveToOuterDisposeScope());
    }
}
