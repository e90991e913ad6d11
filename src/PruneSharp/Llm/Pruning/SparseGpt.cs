using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// SparseGPT (Frantar &amp; Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot"):
/// prunes the columns of W [out, in] left to right and, after each column, moves its pruning error onto the columns
/// not yet visited with the Optimal Brain Surgeon update, so the layer's output WX is reconstructed as well as the
/// remaining weights allow. With H = 2XXᵀ/n the loss Hessian (<see cref="InputStatistics.Hessian()"/>):
/// <list type="bullet">
/// <item>columns with H_jj = 0 never see input: H_jj := 1 and W[:, j] := 0; then λ = percdamp·mean(diag H) is added
/// to the diagonal, and U = the upper Cholesky factor of H⁻¹, computed in H's storage (<see cref="InverseCholesky"/>);</item>
/// <item>blocks of B columns: the unstructured mask of a block is chosen when the sweep reaches it, the round(s·out·B)
/// lowest w²/U_jj² over the whole block (ties: lower row-major index); for N:M the M − N lowest of each row's group of
/// M columns are pruned when the sweep reaches the group's first column (so they see the updates of earlier columns);</item>
/// <item>column j: q = w with the pruned entries zeroed, err = (w − q)/U_jj, W[:, j:] −= err·U[j, j:] within the block;
/// after the block, W[:, end:] −= Err·U[block, end:] (the lazy batch update: an exact reorganisation of the
/// column-by-column update; inside a block, sub-blocks of 16 columns are lazily updated the same way).</item>
/// </list>
/// The computation runs in the weight's dtype (float32 for a model; float64 in tests). W is kept transposed, so a
/// column is a contiguous row, and each column costs two in-place library calls on views.
/// </summary>
public static class SparseGpt
{
    /// <summary>
    /// Prunes <paramref name="weight"/> [out, in] (not modified) to <paramref name="pattern"/> given H [in, in];
    /// returns the updated weight and its mask.
    /// </summary>
    /// <exception cref="PruningException">Shapes do not fit, H has NaN/∞, H + λI is not positive definite, or the block size is not a multiple of M.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked between blocks).</exception>
    public static PrunedLinear Prune(Tensor weight, Tensor hessian, SparsityPattern pattern, SparseGptOptions? options = null, CancellationToken cancellation = default) =>
        Prune(weight, hessian, consumeHessian: false, pattern, options, cancellation);

    /// <summary>
    /// As <see cref="Prune(Tensor, Tensor, SparsityPattern, SparseGptOptions?, CancellationToken)"/>; with
    /// <paramref name="consumeHessian"/> the caller hands over <paramref name="hessian"/> (a copy it owns, in the
    /// weight's dtype): it is dampened and overwritten by U in place instead of being copied, which saves one
    /// [in, in] matrix at the peak of a layer-by-layer run.
    /// </summary>
    internal static PrunedLinear Prune(Tensor weight, Tensor hessian, bool consumeHessian, SparsityPattern pattern, SparseGptOptions? options = null,
        CancellationToken cancellation = default)
    {
        options ??= new SparseGptOptions();
        long rows = weight.shape[0], columns = weight.dim() == 2 ? weight.shape[1] : 0;
        MaskSelection.CheckWeight(weight, pattern);
        if (hessian.dim() != 2 || hessian.shape[0] != columns || hessian.shape[1] != columns)
            throw new PruningException($"SparseGPT needs H of shape [{columns},{columns}] for a weight of shape [{rows},{columns}]; got [{string.Join(",", hessian.shape)}]");
        if (options.BlockSize < 1) throw new PruningException($"SparseGPT block size must be positive, got {options.BlockSize}");
        if (pattern.IsNM && options.BlockSize % pattern.M != 0)
            throw new PruningException($"SparseGPT block size {options.BlockSize} must be a multiple of M={pattern.M} for {pattern} sparsity");
        if (!(options.PercDamp >= 0)) throw new PruningException($"SparseGPT percdamp must be ≥ 0, got {options.PercDamp}");

        using var scope = NewDisposeScope();
        var dtype = weight.dtype;
        var h = consumeHessian && hessian.dtype == dtype && hessian.is_contiguous() ? hessian : hessian.detach().to(dtype, copy: true).contiguous();
        if (!AllFinite(h)) throw new PruningException("SparseGPT: the Hessian contains NaN or infinite values");
        // wt[j] is column j of W: the sweep reads and writes contiguous rows.
        var wt = empty(columns, rows, dtype: dtype);
        wt.copy_(weight.detach().t());
        using (NewDisposeScope()) // its views of h would otherwise keep h's storage alive after U is freed
        {
            var diagonal = h.diagonal();
            var dead = diagonal.eq(0);
            diagonal.masked_fill_(dead, 1);
            wt.masked_fill_(dead.unsqueeze(1), 0);
            diagonal.add_(options.PercDamp * diagonal.mean().to(ScalarType.Float64).item<double>());
        }
        InverseCholesky.UpperFactorOfInverseInPlace(h); // h now holds U: the only [columns, columns] matrix of the sweep
        var u = h;
        var keepT = ones(columns, rows, dtype: ScalarType.Bool);

        // laterFirst[i, k] = k < i: among equal scores the lower index ranks first (is kept), as MaskSelection.KeepNM.
        using var laterFirst = pattern.IsNM ? ones(pattern.M, pattern.M, dtype: ScalarType.Bool).tril(-1).unsqueeze(2) : null;
        int block = options.BlockSize;
        // Sub-blocks of about 16 columns, a multiple of M so that an N:M group never straddles two.
        long sub = pattern.IsNM ? (16 + pattern.M - 1) / pattern.M * pattern.M : 16;
        for (long start = 0; start < columns; start += block)
        {
            cancellation.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            long count = Math.Min(block, columns - start);
            var w1 = wt.narrow(0, start, count);
            var u1 = u.narrow(0, start, count).narrow(1, start, count);
            var diagonal = u1.diagonal().contiguous();
            var keep1 = keepT.narrow(0, start, count);
            var err1 = empty(count, rows, dtype: dtype);
            // (1 − keep)/U_jj: multiplying column j by its row gives err = (w − q)/U_jj in one call.
            var prunedOverDiagonal = empty(count, rows, dtype: dtype);
            if (!pattern.IsNM)
            {
                var scores = w1.square().div_(diagonal.square().unsqueeze(1));
                var keep = ExactSelection.KeepAllButLowest(scores.t().reshape(-1), ExactSelection.PrunedCount(pattern.Sparsity, scores.numel()));
                keep1.copy_(keep.reshape(rows, count).t());
                ScaledPruned(keep1, diagonal, prunedOverDiagonal);
            }
            // Two levels of lazy updates: a column's rank-1 update reaches only the columns of its sub-block (kept in
            // cache); each finished sub-block updates the rest of the block with one matrix product.
            for (long s0 = 0; s0 < count; s0 += sub)
            {
                long s1 = Math.Min(s0 + sub, count);
                for (long j = s0; j < s1; j++)
                {
                    using var columnScope = NewDisposeScope();
                    if (pattern.IsNM && j % pattern.M == 0)
                    {
                        var d = diagonal.narrow(0, j, pattern.M);
                        var scores = w1.narrow(0, j, pattern.M).square().div_(d.square().unsqueeze(1));
                        var keep = KeepNMColumns(scores, pattern.N, laterFirst!);
                        keep1.narrow(0, j, pattern.M).copy_(keep);
                        ScaledPruned(keep, d, prunedOverDiagonal.narrow(0, j, pattern.M));
                    }
                    var err = err1[j].copy_(w1[j]).mul_(prunedOverDiagonal[j]);
                    // W[:, j:s1] −= err ⊗ U[j, j:s1]; column j becomes q up to rounding and is masked exactly after the block.
                    w1.narrow(0, j, s1 - j).addr_(u1[j].narrow(0, j, s1 - j), err, beta: 1, alpha: -1);
                }
                if (s1 < count)
                {
                    using var subScope = NewDisposeScope();
                    w1.narrow(0, s1, count - s1).addmm_(u1.narrow(0, s0, s1 - s0).narrow(1, s1, count - s1).t(), err1.narrow(0, s0, s1 - s0), beta: 1, alpha: -1);
                }
            }
            w1.mul_(keep1);
            if (start + count < columns)
                wt.narrow(0, start + count, columns - start - count)
                    .addmm_(u.narrow(0, start, count).narrow(1, start + count, columns - start - count).t(), err1, beta: 1, alpha: -1);
        }
        u.Dispose(); // before the result is allocated, so the peak is the sweep's, not U's and the result's together
        var prunedWeight = wt.t().contiguous().to(weight.dtype);
        var mask = keepT.t().contiguous();
        return new PrunedLinear(prunedWeight.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Whether every entry of <paramref name="h"/> is finite, checked 256 rows at a time: isfinite of a whole
    /// [columns, columns] matrix allocates about 1.75 times the matrix in temporaries (|h| and three boolean masks).
    /// </summary>
    static bool AllFinite(Tensor h)
    {
        for (long start = 0; start < h.shape[0]; start += 256)
        {
            using var scope = NewDisposeScope();
            if (!h.narrow(0, start, Math.Min(256, h.shape[0] - start)).isfinite().all().item<bool>()) return false;
        }
        return true;
    }

    /// <summary>
    /// N:M keep-mask of the M columns' scores [M, rows] (one group per row) by ranks rather than a sort: entry i is kept
    /// when fewer than N entries of its group score higher, or equal at a lower index. A few element-wise calls on
    /// [M, M, rows], cheaper per group than a sort.
    /// </summary>
    static Tensor KeepNMColumns(Tensor scores, int n, Tensor laterFirst)
    {
        var mine = scores.unsqueeze(1);
        var others = scores.unsqueeze(0);
        var beaten = others.gt(mine).logical_or_(others.eq(mine).logical_and_(laterFirst));
        return beaten.sum(dim: 1).lt(n);
    }

    static void ScaledPruned(Tensor keep, Tensor diagonal, Tensor into)
    {
        using var scope = NewDisposeScope();
        into.copy_(keep.logical_not().to(into.dtype).div_(diagonal.unsqueeze(1)));
    }
}
