using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// The factor SparseGPT sweeps with: the upper triangular U with UᵀU = H⁻¹, computed in the storage of H itself, so
/// that a [columns, columns] Hessian costs one such matrix instead of the three that Cholesky, inverse and Cholesky
/// again would hold at once (for a 5632-wide MLP projection each is 127 MB in float32).
/// <para>
/// Two blocked passes, each a sequence of library calls on views of H with block-sized temporaries:
/// <list type="number">
/// <item>a reverse Cholesky factorisation H = ŪŪᵀ with Ū upper triangular, from the last diagonal block to the first:
/// the diagonal block is factored (as the flip of the Cholesky factor of its flip), the block column above it is
/// solved against it, Ū_ik = A_ik Ū_kk⁻ᵀ, and the leading submatrix loses that column's product, A₀₀ −= Ū_ik Ū_ikᵀ;</item>
/// <item>U = Ū⁻¹, an upper triangular inverse from the first block to the last: with X₀₀ the inverse of the leading
/// part already in place, the next block column becomes −X₀₀ Ū₀₁ Ū₁₁⁻¹ and its diagonal block Ū₁₁⁻¹.</item>
/// </list>
/// Then UᵀU = Ū⁻ᵀŪ⁻¹ = (ŪŪᵀ)⁻¹ = H⁻¹, and since a Cholesky factor with a positive diagonal is unique, U is the same
/// matrix as the upper Cholesky factor of H⁻¹ up to rounding.
/// </para>
/// </summary>
static class InverseCholesky
{
    /// <summary>Columns per block: large enough for matrix products to dominate, small enough for the temporaries.</summary>
    const int DefaultBlock = 256;

    /// <summary>
    /// Overwrites <paramref name="h"/> (symmetric positive definite, contiguous [n, n], float32 or float64) with U,
    /// upper triangular with UᵀU = H⁻¹; the strict lower triangle becomes zero.
    /// </summary>
    /// <exception cref="PruningException">H is not (numerically) positive definite.</exception>
    public static void UpperFactorOfInverseInPlace(Tensor h, int block = DefaultBlock)
    {
        if (h.dim() != 2 || h.shape[0] != h.shape[1] || !h.is_contiguous())
            throw new ArgumentException($"expected a contiguous square matrix, got [{string.Join(",", h.shape)}]", nameof(h));
        if (block < 1) throw new ArgumentOutOfRangeException(nameof(block), block, "block size must be positive");
        long n = h.shape[0];
        for (long end = n; end > 0; end -= block)
        {
            using var scope = NewDisposeScope();
            long start = Math.Max(0, end - block), size = end - start;
            var diagonal = h.narrow(0, start, size).narrow(1, start, size);
            var factor = ReverseCholesky(diagonal);
            diagonal.copy_(factor);
            if (start == 0) break;
            var above = h.narrow(0, 0, start).narrow(1, start, size);
            above.copy_(linalg.solve_triangular(factor.t(), above, upper: false, left: false));
            h.narrow(0, 0, start).narrow(1, 0, start).addmm_(above, above.t(), beta: 1, alpha: -1);
        }
        h.triu_();
        for (long start = 0; start < n; start += block)
        {
            using var scope = NewDisposeScope();
            long size = Math.Min(block, n - start);
            var diagonal = h.narrow(0, start, size).narrow(1, start, size);
            var inverse = linalg.solve_triangular(diagonal, eye(size, dtype: h.dtype), upper: true).triu_();
            if (start > 0)
            {
                var column = h.narrow(0, 0, start).narrow(1, start, size);
                var leading = h.narrow(0, 0, start).narrow(1, 0, start);
                column.copy_(leading.matmul(column).matmul(inverse).neg_());
            }
            diagonal.copy_(inverse);
        }
        using var d = h.diagonal();
        using var valid = d.isfinite().all().logical_and_(d.gt(0).all());
        if (!valid.item<bool>())
            throw new PruningException("SparseGPT: H⁻¹ is not numerically positive definite (raise percdamp)");
    }

    /// <summary>Ū upper triangular with ŪŪᵀ = A for a small symmetric positive definite block A (a new tensor).</summary>
    static Tensor ReverseCholesky(Tensor block)
    {
        var (lower, info) = linalg.cholesky_ex(block.flip(0, 1));
        using (info)
            if (info.item<int>() != 0)
                throw new PruningException("SparseGPT: H + λI is not positive definite (too few calibration tokens for this width? raise percdamp)");
        return lower.flip(0, 1);
    }
}
