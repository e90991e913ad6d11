using System.Runtime.InteropServices;
using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Sparse;

/// <summary>The sparse kernels against a float64 dense product, over shapes that stress the vector loops' edges.</summary>
public class SparseKernelTests
{
    /// <summary>A random matrix with the given fraction of zeros; row 0 fully dense and row 1 empty when there are enough rows.</summary>
    internal static float[] RandomMatrix(int rows, int columns, double sparsity, int seed)
    {
        var random = new Random(seed);
        var values = new float[rows * columns];
        for (int i = 0; i < values.Length; i++)
            values[i] = random.NextDouble() < sparsity ? 0 : (float)(random.NextDouble() * 2 - 1);
        if (rows >= 3)
        {
            for (int c = 0; c < columns; c++) values[c] = (float)(random.NextDouble() + 0.5);
            Array.Clear(values, columns, columns);
        }
        return values;
    }

    internal static float[] RandomVector(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>W·X in float64 for X [columns, n].</summary>
    internal static double[] Reference(float[] w, int rows, int columns, float[] x, int n)
    {
        using var product = tensor(w, rows, columns).to(float64).matmul(tensor(x, columns, n).to(float64));
        return product.data<double>().ToArray();
    }

    internal static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
    }

    public static TheoryData<int, int, int, double> Shapes() => new()
    {
        { 1, 1, 1, 0.0 }, { 3, 7, 1, 0.5 }, { 9, 17, 2, 0.5 }, { 8, 8, 8, 0.0 }, { 17, 33, 7, 0.9 }, { 5, 100, 16, 0.7 },
        { 33, 9, 17, 0.3 }, { 64, 129, 33, 0.95 }, { 7, 31, 65, 0.5 }, { 2, 40, 1000, 0.8 }, { 300, 700, 1, 0.5 },
        { 300, 700, 16, 0.9 }, { 257, 515, 19, 0.6 }, { 4, 9, 3, 1.0 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Csr_product_matches_the_dense_product(int rows, int columns, int n, double sparsity)
    {
        var w = RandomMatrix(rows, columns, sparsity, rows * 31 + columns);
        var x = RandomVector(columns * n, n);
        var expected = Reference(w, rows, columns, x, n);
        var matrix = CsrMatrix.FromDense(w, rows, columns);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var y = new float[rows * n];
            SparseKernels.Multiply(matrix, x, y, n, threads);
            AssertClose(expected, y, $"{rows}x{columns} at {sparsity}, n {n}, {threads} threads");
        }
    }

    [Fact]
    public void Csr_with_more_columns_than_16_bits_index_uses_32_bit_columns_and_matches()
    {
        int rows = 3, columns = 70_001;
        var w = RandomMatrix(rows, columns, 0.9, 4);
        var matrix = CsrMatrix.FromDense(w, rows, columns);
        Assert.False(matrix.NarrowIndices);
        foreach (int n in new[] { 1, 5 })
        {
            var x = RandomVector(columns * n, 9);
            var y = new float[rows * n];
            SparseKernels.Multiply(matrix, x, y, n, 2);
            AssertClose(Reference(w, rows, columns, x, n), y, $"wide columns, n {n}");
        }
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(1, 4)]
    [InlineData(4, 8)]
    [InlineData(2, 8)]
    [InlineData(3, 8)]
    public void Nm_product_matches_the_dense_product(int n, int m)
    {
        foreach (var (rows, columns) in new[] { (1, m), (5, 3 * m), (37, 41 * m), (200, 128 * m) })
        {
            var w = NmRandom(rows, columns, n, m, seed: rows + columns);
            var matrix = NmMatrix.FromDense(w, rows, columns, n, m);
            foreach (int inputs in new[] { 1, 3, 16, 21 })
            {
                var x = RandomVector(columns * inputs, inputs);
                var y = new float[rows * inputs];
                SparseKernels.Multiply(matrix, x, y, inputs, 2);
                AssertClose(Reference(w, rows, columns, x, inputs), y, $"{n}:{m} {rows}x{columns}, n {inputs}");
            }
        }
    }

    /// <summary>N:M with some groups holding fewer than N non-zeros (and some none).</summary>
    static float[] NmRandom(int rows, int columns, int n, int m, int seed)
    {
        var random = new Random(seed);
        var w = new float[rows * columns];
        for (int g = 0; g < w.Length; g += m)
        {
            int keep = random.Next(4) == 0 ? random.Next(n + 1) : n;
            foreach (int i in Enumerable.Range(0, m).OrderBy(_ => random.Next()).Take(keep)) w[g + i] = (float)(random.NextDouble() * 2 - 1);
        }
        return w;
    }

    [Fact]
    public void Formats_round_trip_to_the_dense_matrix()
    {
        var w = RandomMatrix(13, 24, 0.6, 1);
        using var csr = CsrMatrix.FromDense(w, 13, 24).ToDense();
        Assert.Equal(w, csr.data<float>().ToArray());
        using var fromTensor = CsrMatrix.FromTensor(tensor(w, 13, 24)).ToDense();
        Assert.Equal(w, fromTensor.data<float>().ToArray());

        var nm = NmRandom(6, 32, 2, 4, 3);
        Assert.Equal((2, 4), NmMatrix.FindPattern(nm, 6, 32));
        using var packed = NmMatrix.FromDense(nm, 6, 32, 2, 4).ToDense();
        Assert.Equal(nm, packed.data<float>().ToArray());
    }

    [Fact]
    public void Storage_counts_values_indices_and_row_starts()
    {
        var w = RandomMatrix(10, 40, 0.75, 2);
        var csr = CsrMatrix.FromDense(w, 10, 40);
        int nonZeros = w.Count(v => v != 0);
        Assert.Equal(nonZeros, csr.StoredValues);
        Assert.Equal(nonZeros * 6L + 11 * 4, csr.StorageBytes);
        Assert.Equal(1 - nonZeros / 400.0, csr.Sparsity, 12);
        var nm = NmMatrix.FromDense(NmRandom(10, 40, 2, 4, 5), 10, 40, 2, 4);
        Assert.Equal(200, nm.StoredValues);
        Assert.Equal(1000, nm.StorageBytes);
        Assert.Equal(1600, nm.DenseBytes);
    }

    [Fact]
    public void Nm_refuses_a_group_with_too_many_non_zeros_and_a_width_that_does_not_split()
    {
        var w = new float[] { 1, 2, 3, 0, 0, 0, 0, 0 };
        Assert.False(NmMatrix.Fits(w, 1, 8, 2, 4));
        Assert.Equal((4, 8), NmMatrix.FindPattern(w, 1, 8));
        var error = Assert.Throws<ArgumentException>(() => NmMatrix.FromDense(w, 1, 8, 2, 4));
        Assert.Contains("more than 2 non-zeros", error.Message);
        Assert.Throws<ArgumentException>(() => NmMatrix.FromDense(new float[6], 1, 6, 2, 4));
    }

    [Fact]
    public void Linear_takes_a_batch_and_refuses_a_wrong_width()
    {
        var w = RandomMatrix(20, 50, 0.8, 6);
        var matrix = CsrMatrix.FromDense(w, 20, 50);
        using var weight = tensor(w, 20, 50);
        foreach (int batch in new[] { 1, 4, 16 })
        {
            using var x = randn(batch, 50);
            using var expected = nn.functional.linear(x, weight);
            using var actual = SparseKernels.Linear(matrix, x, 2);
            Assert.True(actual.allclose(expected, 1e-4, 1e-5), $"batch {batch}");
        }
        using var wrong = randn(2, 49);
        Assert.Throws<ArgumentException>(() => SparseKernels.Linear(matrix, wrong, 1));
        Assert.Throws<ArgumentException>(() => SparseKernels.Multiply(matrix, new float[49], new float[20], 1));
    }
}
