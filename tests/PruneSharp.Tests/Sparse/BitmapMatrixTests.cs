using PruneSharp.Sparse;
using static PruneSharp.Tests.Sparse.SparseKernelTests;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Sparse;

/// <summary>The bitmap format and its kernels (every instruction path this processor runs) against a float64 dense product.</summary>
public class BitmapMatrixTests
{
    static IEnumerable<BitmapPath> SupportedPaths() =>
        Enum.GetValues<BitmapPath>().Where(BitmapKernels.IsSupported);

    public static TheoryData<int, int, int, double> Shapes()
    {
        var shapes = SparseKernelTests.Shapes();
        // Whole chunks only, a multiple of the four-chunk turn, and one chunk past it.
        foreach (var (rows, columns, n, sparsity) in new[] { (5, 16, 1, 0.5), (6, 64, 1, 0.7), (7, 80, 2, 0.7), (300, 4096, 1, 0.7), (40, 1024, 16, 0.9), (3, 48, 1, 0.0) })
            shapes.Add(rows, columns, n, sparsity);
        return shapes;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bitmap_product_matches_the_dense_product_on_every_supported_path(int rows, int columns, int n, double sparsity)
    {
        var w = RandomMatrix(rows, columns, sparsity, rows * 17 + columns);
        var x = RandomVector(columns * n, n + 1);
        var expected = Reference(w, rows, columns, x, n);
        var matrix = BitmapMatrix.FromDense(w, rows, columns);
        foreach (var path in SupportedPaths())
        {
            matrix.Path = path;
            foreach (int threads in new[] { 1, 2 })
            {
                var y = new float[rows * n];
                SparseKernels.Multiply(matrix, x, y, n, threads);
                AssertClose(expected, y, $"{path}: {rows}x{columns} at {sparsity}, n {n}, {threads} threads");
            }
        }
    }

    [Fact]
    public void An_all_zero_matrix_gives_zeros_and_stores_only_masks_and_row_starts()
    {
        var matrix = BitmapMatrix.FromDense(new float[7 * 37], 7, 37);
        Assert.Equal(0, matrix.StoredValues);
        Assert.Equal(7 * 3 * 2 + 8 * 4, matrix.StorageBytes);
        var x = RandomVector(37 * 3, 2);
        foreach (var path in SupportedPaths())
        {
            matrix.Path = path;
            foreach (int n in new[] { 1, 3 })
            {
                var y = Enumerable.Repeat(float.NaN, 7 * n).ToArray();
                SparseKernels.Multiply(matrix, x.AsSpan(0, 37 * n), y, n, 2);
                Assert.All(y, v => Assert.Equal(0f, v));
            }
        }
    }

    [Fact]
    public void Dense_to_bitmap_to_dense_is_bit_exact()
    {
        foreach (var (rows, columns, sparsity) in new[] { (13, 24, 0.6), (3, 1, 0.0), (9, 47, 0.95), (4, 64, 0.0), (5, 33, 1.0) })
        {
            var w = RandomMatrix(rows, columns, sparsity, columns);
            var matrix = BitmapMatrix.FromDense(w, rows, columns);
            using var dense = matrix.ToDense();
            Assert.Equal(w, dense.data<float>().ToArray());
            using var fromTensor = BitmapMatrix.FromTensor(tensor(w, rows, columns)).ToDense();
            Assert.Equal(w, fromTensor.data<float>().ToArray());
            Assert.Equal(w.Count(v => v != 0), matrix.StoredValues);
            Assert.Equal(matrix.Values.Length, matrix.RowStarts[rows]);
        }
    }

    [Fact]
    public void Storage_counts_values_masks_and_row_starts_and_is_below_csr_at_70_percent()
    {
        var w = RandomMatrix(10, 40, 0.7, 2);
        var matrix = BitmapMatrix.FromDense(w, 10, 40);
        int nonZeros = w.Count(v => v != 0);
        Assert.Equal(3, matrix.ChunksPerRow);
        Assert.Equal(nonZeros * 4L + 10 * 3 * 2 + 11 * 4, matrix.StorageBytes);
        Assert.Equal(BitmapMatrix.BytesFor(10, 40, nonZeros), matrix.StorageBytes);
        Assert.True(matrix.StorageBytes < CsrMatrix.FromDense(w, 10, 40).StorageBytes);
        Assert.Equal("bitmap", matrix.Format);
    }

    [Fact]
    public void Masks_mark_the_non_zero_columns_of_each_chunk()
    {
        var w = new float[20];
        w[0] = 1; w[15] = 2; w[17] = 3;
        var matrix = BitmapMatrix.FromDense(w, 1, 20);
        Assert.Equal(new ushort[] { 0x8001, 0x0002 }, matrix.Masks.ToArray());
        Assert.Equal(new float[] { 1, 2, 3 }, matrix.Values.ToArray());
    }

    [Fact]
    public void Bad_shapes_are_refused_with_the_counts()
    {
        var error = Assert.Throws<ArgumentException>(() => BitmapMatrix.FromDense(new float[5], 2, 3));
        Assert.Contains("needs 6 values, got 5", error.Message);
        Assert.Throws<ArgumentException>(() => BitmapMatrix.FromTensor(zeros(2, 3, 4)));
    }

    [Fact]
    public void Linear_matches_libtorch_at_one_and_several_examples()
    {
        var generator = new Generator(5);
        using var weight = KernelChoice.RandomSparse(70, 100, 0.7, generator);
        var matrix = BitmapMatrix.FromTensor(weight);
        foreach (int batch in new[] { 1, 4 })
        {
            using var x = randn(new long[] { batch, 100 }, generator: generator);
            using var expected = nn.functional.linear(x, weight);
            using var actual = SparseKernels.Linear(matrix, x, 2);
            Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-4), $"batch {batch}");
        }
    }
}
