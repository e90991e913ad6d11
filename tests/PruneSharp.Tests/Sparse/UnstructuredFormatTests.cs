using PruneSharp.Sparse;
using static PruneSharp.Tests.Sparse.SparseKernelTests;

namespace PruneSharp.Tests.Sparse;

/// <summary>The measured bitmap/CSR rule, and both formats' kernels around it against a float64 dense product.</summary>
public class UnstructuredFormatTests
{
    /// <summary>A random matrix at <paramref name="sparsity"/> with its first row empty and its second (when there is one) fully dense.</summary>
    static float[] WithEmptyAndDenseRows(int rows, int columns, double sparsity, int seed)
    {
        var w = RandomMatrix(rows, columns, sparsity, seed);
        Array.Clear(w, 0, columns);
        if (rows > 1)
            for (int c = 0; c < columns; c++) w[columns + c] = 0.5f + c % 7 * 0.25f;
        return w;
    }

    public static TheoryData<int, int, double> Cases()
    {
        var cases = new TheoryData<int, int, double>();
        foreach (double sparsity in new[] { 0.8, 0.85, UnstructuredFormat.CsrFromSparsity, 0.875, 0.9, 0.95 })
            foreach (var (rows, columns) in new[] { (1, 1), (3, 17), (37, 83), (64, 129), (130, 300) })
                cases.Add(rows, columns, sparsity);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bitmap_and_csr_match_the_dense_product_at_the_crossover_sparsities(int rows, int columns, double sparsity)
    {
        var w = WithEmptyAndDenseRows(rows, columns, sparsity, rows * 31 + columns);
        var chosen = UnstructuredFormat.FromDense(w, rows, columns);
        foreach (var matrix in new SparseMatrix[] { chosen, BitmapMatrix.FromDense(w, rows, columns), CsrMatrix.FromDense(w, rows, columns) })
            foreach (int n in new[] { 1, 3, 16, 21 })
            {
                var x = RandomVector(columns * n, n + 7);
                var expected = Reference(w, rows, columns, x, n);
                foreach (int threads in new[] { 1, 2 })
                {
                    var y = new float[rows * n];
                    SparseKernels.Multiply(matrix, x, y, n, threads);
                    AssertClose(expected, y, $"{matrix.Format} {rows}x{columns} at {sparsity}, n {n}, {threads} threads");
                }
            }
    }

    [Theory]
    [InlineData(0.5, "bitmap")]
    [InlineData(0.8, "bitmap")]
    [InlineData(0.85, "bitmap")]
    [InlineData(0.87, "csr")]
    [InlineData(0.9, "csr")]
    [InlineData(0.95, "csr")]
    [InlineData(0.99, "csr")]
    public void The_rule_takes_csr_above_the_measured_crossover_and_bitmap_below(double sparsity, string format)
    {
        const int rows = 64, columns = 400;
        // Exactly this many non-zeros, so that the sparsity is the one asked for.
        var w = new float[rows * columns];
        int nonZeros = (int)Math.Round((1 - sparsity) * w.Length);
        var order = Enumerable.Range(0, w.Length).OrderBy(i => (i * 7919L) % 10007).ToArray();
        for (int k = 0; k < nonZeros; k++) w[order[k]] = 1 + k % 5;
        Assert.Equal(format == "csr", UnstructuredFormat.IsCsr(rows, columns, nonZeros));
        var matrix = UnstructuredFormat.FromDense(w, rows, columns);
        Assert.Equal(format, matrix.Format);
        Assert.Equal(matrix.StorageBytes, UnstructuredFormat.BytesFor(rows, columns, nonZeros));
        // Between the crossover and 15/16 sparsity CSR is taken although bitmap stores fewer bytes: the rule is measured time, not size.
        if (sparsity is > UnstructuredFormat.CsrFromSparsity and < 15.0 / 16)
            Assert.True(BitmapMatrix.BytesFor(rows, columns, nonZeros) < CsrMatrix.BytesFor(rows, columns, nonZeros));
    }
}
