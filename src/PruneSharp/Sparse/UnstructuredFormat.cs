namespace PruneSharp.Sparse;

/// <summary>
/// The compact format of a weight pruned without a pattern: <see cref="BitmapMatrix"/> below
/// <see cref="CsrFromSparsity"/>, <see cref="CsrMatrix"/> from there on. The language-model decoder, the compiled
/// plan and the interpreter's sparse layers all choose here (each may still prefer <see cref="NmMatrix"/> for a weight
/// that fits a pattern).
/// <para>
/// Not the format with the fewest bytes: bitmap stores fewer bytes than CSR up to 15/16 sparsity, but its product does
/// a fixed amount of work per chunk of 16 columns (read the 2-byte mask, expand the packed values, one fused
/// multiply-add), whatever the chunk's density, while CSR's work follows the non-zeros. Measured with
/// <c>PruneSharp.Bench sparse-linear --shape S --sparsity 0.8,0.825,0.85,0.875,0.9,0.95 --batch 1 --threads 2 --rounds 41</c>
/// (dense, CSR and bitmap alternating in one process; AVX-512 machine, 2 cores at a load average of 17–25, 2026-12-06),
/// bitmap's time over CSR's, median (fastest round):
/// </para>
/// <code>
/// sparsity        80 %         82.5 %       85 %                   87.5 %       90 %         95 %
/// 4096 x 4096     0.65–0.69    0.54 (0.74)  0.89–0.91 (0.64–0.89)  1.06 (1.52)  1.28 (1.28–1.31)  2.40–2.63 (2.48–2.50)
/// 2048 x 5632     0.87–0.95    0.97 (0.93)  0.94–1.21 (0.61–0.96)  1.17 (1.14)  1.30–1.59 (1.40)  2.53–2.61 (1.81–2.49)
/// </code>
/// <para>
/// Bitmap takes about 1.1 ms on the 4096 × 4096 weight at every sparsity from 80 % to 95 %, while CSR falls from 1.8 to
/// 0.45 ms: the two cross between 85 % and 87.5 % on both shapes, hence 0.86. With several inputs both formats run the
/// same column kernel on decoded column numbers (bitmap/CSR medians 0.93–1.29 at 70 %, batch 16, CSR ahead at 90 %), so
/// the rule holds there too.
/// </para>
/// </summary>
public static class UnstructuredFormat
{
    /// <summary>The sparsity from which CSR is faster than bitmap (measured: see the class notes).</summary>
    public const double CsrFromSparsity = 0.86;

    /// <summary>True if a [<paramref name="rows"/>, <paramref name="columns"/>] weight with <paramref name="nonZeros"/> non-zeros goes in CSR, false for bitmap.</summary>
    public static bool IsCsr(int rows, int columns, long nonZeros) => nonZeros <= (1 - CsrFromSparsity) * ((long)rows * columns);

    /// <summary>The bytes the chosen format stores for such a weight.</summary>
    public static long BytesFor(int rows, int columns, long nonZeros) =>
        IsCsr(rows, columns, nonZeros) ? CsrMatrix.BytesFor(rows, columns, nonZeros) : BitmapMatrix.BytesFor(rows, columns, nonZeros);

    /// <summary>The non-zeros of a dense row-major matrix [rows, columns] in the chosen format.</summary>
    public static SparseMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        long nonZeros = 0;
        foreach (float value in dense) if (value != 0) nonZeros++;
        return IsCsr(rows, columns, nonZeros) ? CsrMatrix.FromDense(dense, rows, columns) : BitmapMatrix.FromDense(dense, rows, columns);
    }
}
