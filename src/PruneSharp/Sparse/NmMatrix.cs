using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>
/// N:M semi-structured sparsity stored compactly: each row is cut into groups of M consecutive columns, and every group
/// keeps exactly N values with each value's position in its group (one byte). Row starts and column indices need not be
/// stored, so 2:4 costs 5 bytes per kept value: 62.5 % of the dense bytes (a group with fewer than N non-zeros is
/// padded with zeros). The kernels find a value's column as group × M + position.
/// </summary>
public sealed class NmMatrix : SparseMatrix
{
    readonly float[] _values;
    readonly byte[] _positions;
    readonly int _perRow;

    NmMatrix(int rows, int columns, int n, int m, float[] values, byte[] positions) : base(rows, columns)
    {
        N = n;
        M = m;
        _values = values;
        _positions = positions;
        _perRow = columns / m * n;
    }

    /// <summary>Values kept per group.</summary>
    public int N { get; }

    /// <summary>Columns per group.</summary>
    public int M { get; }

    /// <summary>The patterns <see cref="FindPattern"/> tries, sparsest first: N:M with N &lt; M.</summary>
    public static IReadOnlyList<(int N, int M)> Patterns { get; } = new[] { (1, 4), (2, 8), (2, 4), (4, 8) };

    /// <summary>True if every group of <paramref name="m"/> columns of every row has at most <paramref name="n"/> non-zeros.</summary>
    public static bool Fits(ReadOnlySpan<float> dense, int rows, int columns, int n, int m)
    {
        if (n < 1 || m <= n || m > 256 || columns % m != 0 || dense.Length != (long)rows * columns) return false;
        for (int g = 0; g < dense.Length; g += m)
        {
            int count = 0;
            for (int i = 0; i < m; i++) if (dense[g + i] != 0) count++;
            if (count > n) return false;
        }
        return true;
    }

    /// <summary>The sparsest pattern of <see cref="Patterns"/> that the matrix fits, or null.</summary>
    public static (int N, int M)? FindPattern(ReadOnlySpan<float> dense, int rows, int columns)
    {
        foreach (var (n, m) in Patterns)
            if (Fits(dense, rows, columns, n, m)) return (n, m);
        return null;
    }

    /// <summary>Packs a dense row-major matrix [rows, columns] that fits N:M.</summary>
    /// <exception cref="ArgumentException">The pattern is invalid, the columns are not a multiple of M, or a group holds more than N non-zeros.</exception>
    public static NmMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, int n, int m)
    {
        if (n < 1 || m <= n || m > 256) throw new ArgumentException($"{n}:{m} is not an N:M pattern with 1 <= N < M <= 256");
        if (rows < 1 || columns < 1 || dense.Length != (long)rows * columns)
            throw new ArgumentException($"a {rows}x{columns} matrix needs {(long)rows * columns} values, got {dense.Length}");
        if (columns % m != 0) throw new ArgumentException($"{columns} columns do not split into groups of {m}");
        long count = (long)rows * (columns / m) * n;
        var values = Pinned<float>(checked((int)count));
        var positions = Pinned<byte>((int)count);
        int k = 0;
        for (int g = 0; g < dense.Length; g += m)
        {
            int kept = 0;
            for (int i = 0; i < m; i++)
            {
                if (dense[g + i] == 0) continue;
                if (kept == n) throw new ArgumentException($"row {g / columns}, columns {g % columns}..{g % columns + m - 1}: more than {n} non-zeros in a group of {m}; the matrix is not {n}:{m} sparse");
                values[k + kept] = dense[g + i];
                positions[k + kept] = (byte)i;
                kept++;
            }
            for (; kept < n; kept++)
            {
                values[k + kept] = 0;
                positions[k + kept] = 0;
            }
            k += n;
        }
        return new NmMatrix(rows, columns, n, m, values, positions);
    }

    /// <summary>Packs a 2-D float32 weight [rows, columns] that fits N:M.</summary>
    public static NmMatrix FromTensor(Tensor weight, int n, int m)
    {
        var dense = DenseValues(weight, out int rows, out int columns);
        return FromDense(dense, rows, columns, n, m);
    }

    /// <inheritdoc />
    public override long StoredValues => _values.Length;

    /// <inheritdoc />
    public override long StorageBytes => BytesFor(Rows, Columns, N, M);

    /// <summary>The bytes an N:M matrix of this shape occupies (<paramref name="columns"/> a multiple of <paramref name="m"/>), to compare formats before building one.</summary>
    public static long BytesFor(int rows, int columns, int n, int m) => (long)rows * (columns / m) * n * (sizeof(float) + sizeof(byte));

    /// <inheritdoc />
    public override string Format => $"{N}:{M}";

    /// <inheritdoc />
    public override Tensor ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (int k = 0; k < _values.Length; k++)
        {
            int row = k / _perRow, group = k % _perRow / N;
            dense[(long)row * Columns + group * M + _positions[k]] += _values[k];
        }
        return tensor(dense, new long[] { Rows, Columns });
    }

    internal override unsafe void MultiplyVector(float* x, float* y, int threads, Epilogue epilogue) =>
        SparseKernels.Vector(new Groups(this), Rows, x, y, threads, epilogue);

    internal override unsafe void MultiplyColumns(float* x, float* y, int n, int threads, Epilogue epilogue) =>
        SparseKernels.Columns(new Groups(this), Rows, x, y, n, threads, epilogue);

    unsafe readonly struct Groups : IRowLayout
    {
        readonly float* _values;
        readonly byte* _positions;
        readonly int _perRow, _n, _m;
        // N a power of two: a value's group is its position shifted right (a division per value costs more than the product).
        readonly int _shift;
        // For N dividing 8: the group offsets of eight consecutive values.
        readonly Vector256<int> _pattern;
        readonly bool _aligned;

        public Groups(NmMatrix matrix)
        {
            _values = Address(matrix._values);
            _positions = Address(matrix._positions);
            (_perRow, _n, _m) = (matrix._perRow, matrix.N, matrix.M);
            _aligned = 8 % _n == 0;
            _shift = int.IsPow2(_n) ? System.Numerics.BitOperations.Log2((uint)_n) : -1;
            _pattern = Vector256.Create(0, 1 / _n, 2 / _n, 3 / _n, 4 / _n, 5 / _n, 6 / _n, 7 / _n) * _m;
        }

        public float* Values => _values;
        public int Start(int row) => row * _perRow;
        public int End(int row) => (row + 1) * _perRow;
        public int Column(int k, int rowStart) => ((_shift >= 0 ? (k - rowStart) >> _shift : (k - rowStart) / _n) * _m) + _positions[k];

        public Vector256<int> Columns8(int k, int rowStart)
        {
            if (_aligned)
                return _pattern + Vector256.Create(((k - rowStart) >> _shift) * _m) + Avx2.ConvertToVector256Int32(_positions + k);
            return Vector256.Create(Column(k, rowStart), Column(k + 1, rowStart), Column(k + 2, rowStart), Column(k + 3, rowStart),
                Column(k + 4, rowStart), Column(k + 5, rowStart), Column(k + 6, rowStart), Column(k + 7, rowStart));
        }
    }
}
