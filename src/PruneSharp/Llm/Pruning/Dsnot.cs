using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// DSnoT, Dynamic Sparse no Training (Zhang et al., ICLR 2024, "Dynamic Sparse No Training: Training-Free
/// Fine-tuning for Sparse LLMs"): refines the mask of an already pruned linear layer (Wanda or magnitude) by swapping,
/// in each output row, one pruned weight back in and one kept weight out, without changing any weight value or the
/// row's count. For row i with mask m and residual r = W_i ⊙ (1 − m), the expected output error is
/// ε_i = Σ_j r_j·E[x_j]. Per cycle and row:
/// <list type="bullet">
/// <item>grow the pruned weight with the largest sign(ε_i)·W_ij·E[x_j] / Var(x_j)^γ among those with
/// sign(W_ij·E[x_j]) = sign(ε_i) (restoring it moves ε_i toward 0; low-variance inputs make that reduction reliable);</item>
/// <item>prune the kept weight with the lowest Wanda score |W_ij|·‖X_j‖₂ among those whose removal does not push ε_i
/// further the same way (sign(W_ij·E[x_j]) ≠ sign(ε_i)); for N:M, within the grown weight's group of M;</item>
/// <item>our addition: the swap is kept only if it lowers the row's exact squared error r·H·rᵀ (H = 2XᵀX/n, updated in
/// O(in) per swap), since the mean-based estimate alone can raise it; a row whose proposed swap would not lower it stops.</item>
/// </list>
/// A row also stops when |ε_i| ≤ the update threshold or after the maximum number of cycles. The defaults (T = 100,
/// threshold 0.1, γ = 1) are those listed for DSnoT by Intel Neural Compressor's documentation of the method.
/// </summary>
public static class Dsnot
{
    /// <summary>
    /// A refined keep-mask (bool [out, in], a new tensor) for <paramref name="weight"/> pruned with <paramref name="mask"/>;
    /// the refined weight is weight ⊙ mask. Every row keeps as many weights as before (every N:M group too).
    /// </summary>
    /// <exception cref="PruningException">Shapes do not fit, or the statistics have no Hessian or no tokens.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked every cycle).</exception>
    public static Tensor Refine(Tensor weight, Tensor mask, InputStatistics inputs, SparsityPattern pattern, DsnotOptions? options = null, CancellationToken cancellation = default)
    {
        options ??= new DsnotOptions();
        MaskSelection.CheckWeight(weight, pattern, inputs.Features);
        if (!mask.shape.SequenceEqual(weight.shape))
            throw new PruningException($"DSnoT: mask of shape [{string.Join(",", mask.shape)}] does not fit weight [{string.Join(",", weight.shape)}]");
        using var scope = NewDisposeScope();
        long rows = weight.shape[0], columns = weight.shape[1];
        var w = weight.detach().to(ScalarType.Float32);
        var keep = mask.to(ScalarType.Bool, copy: true);
        var h = inputs.Hessian();
        var hDiagonal = h.diagonal().contiguous();
        var mean = inputs.Mean();
        var norm = inputs.ColumnNormsSquared().sqrt_();
        var variance = inputs.Variance().clamp_min_(1e-12).pow_(options.VariancePower);
        var contribution = w.mul(mean.unsqueeze(0));                  // W_ij·E[x_j]
        var growBase = contribution.div(variance.unsqueeze(0));       // W_ij·E[x_j] / Var(x_j)^γ
        var wanda = w.abs().mul_(norm.unsqueeze(0));
        var residual = w.mul(keep.logical_not());
        var epsilon = residual.matmul(mean);                          // [out]
        var gradient = residual.matmul(h);                            // r·H per row (H symmetric)
        var active = epsilon.abs().gt(options.UpdateThreshold);
        var rowIndex = arange(rows);
        for (int cycle = 0; cycle < options.MaxCycles; cycle++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var cycleScope = NewDisposeScope();
            if (!active.any().item<bool>()) break;
            var sign = epsilon.sign().unsqueeze(1);
            var growScores = growBase.mul(sign).masked_fill_(keep.logical_or(contribution.mul(sign).le(0)), float.NegativeInfinity);
            var (growBest, grow) = growScores.max(1);
            var pruneScores = wanda.masked_fill(keep.logical_not().logical_or_(contribution.mul(sign).gt(0)), float.PositiveInfinity);
            Tensor pruneBest, prune;
            if (pattern.IsNM)
            {
                // The pruned weight must come from the grown one's group, so the group keeps N.
                var groupStart = grow.div(pattern.M, rounding_mode: RoundingMode.floor).mul_(pattern.M);
                var offsets = groupStart.unsqueeze(1).add(arange(pattern.M).unsqueeze(0));
                (pruneBest, var within) = pruneScores.gather(1, offsets).min(1);
                prune = groupStart.add(within);
            }
            else (pruneBest, prune) = pruneScores.min(1);
            var wGrow = w.gather(1, grow.unsqueeze(1)).squeeze(1);
            var wPrune = w.gather(1, prune.unsqueeze(1)).squeeze(1);
            var gGrow = gradient.gather(1, grow.unsqueeze(1)).squeeze(1);
            var gPrune = gradient.gather(1, prune.unsqueeze(1)).squeeze(1);
            var hCross = h.reshape(-1).gather(0, prune.mul(columns).add_(grow));
            // Exact change of r·H·rᵀ: r' = r − w_g e_g + w_p e_p.
            var change = wGrow.mul(gGrow).mul_(-2).add_(wGrow.square().mul_(hDiagonal.index_select(0, grow)))
                .add_(wPrune.mul(gPrune.sub(wGrow.mul(hCross))).mul_(2)).add_(wPrune.square().mul_(hDiagonal.index_select(0, prune)));
            var candidate = active.logical_and(growBest.isfinite()).logical_and_(pruneBest.isfinite());
            var accept = candidate.logical_and(change.lt(0));
            active.logical_and_(accept);
            if (!accept.any().item<bool>()) break;
            var accepted = rowIndex.masked_select(accept);
            var g = grow.masked_select(accept);
            var p = prune.masked_select(accept);
            var wg = wGrow.masked_select(accept);
            var wp = wPrune.masked_select(accept);
            keep.index_put_(tensor(true), accepted, g);
            keep.index_put_(tensor(false), accepted, p);
            residual.index_put_(zeros(1), accepted, g);
            residual.index_put_(wp, accepted, p);
            epsilon.index_add_(0, accepted, wp.mul(mean.index_select(0, p)).sub_(wg.mul(mean.index_select(0, g))), 1);
            gradient.index_add_(0, accepted, h.index_select(0, p).mul_(wp.unsqueeze(1)).sub_(h.index_select(0, g).mul_(wg.unsqueeze(1))), 1);
            active.logical_and_(epsilon.abs().gt(options.UpdateThreshold));
        }
        return keep.MoveToOuterDisposeScope();
    }
}
