using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>
/// Compressed sparse rows: the non-zeros of W row after row, each with its column, and where each row starts. Column
/// indices are 16-bit when the matrix has at most 65,536 columns (every layer of the usual networks) and 32-bit
/// otherwise, so a float weight costs 6 bytes (or 8) instead of 4 per dense element: CSR stores fewer bytes than dense
/// above 1/3 sparsity (1/2 with 32-bit indices).
/// </summary>
public sealed class CsrMatrix : SparseMatrix
{
    readonly float[] _values;
    readonly int[] _rowStarts;
    readonly ushort[]? _narrow;
    readonly int[]? _wide;

    CsrMatrix(int rows, int columns, float[] values, int[] rowStarts, ushort[]? narrow, int[]? wide) : base(rows, columns)
    {
        _values = values;
        _rowStarts = rowStarts;
        _narrow = narrow;
        _wide = wide;
    }

    /// <summary>The largest column count for which column indices are stored in 16 bits.</summary>
    public const int NarrowColumnLimit = ushort.MaxValue + 1;

    /// <summary>The non-zeros of a dense row-major matrix [rows, columns] (exact zeros are left out, nothing else).</summary>
    public static CsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        if (rows < 1 || columns < 1 || dense.Length != (long)rows * columns)
            throw new ArgumentException($"a {rows}x{columns} matrix needs {(long)rows * columns} values, got {dense.Length}");
        int count = 0;
        foreach (float value in dense) if (value != 0) count++;
        var values = Pinned<float>(count);
        var rowStarts = Pinned<int>(rows + 1);
        bool narrow = columns <= NarrowColumnLimit;
        var narrowIndices = narrow ? Pinned<ushort>(count) : null;
        var wideIndices = narrow ? null : Pinned<int>(count);
        int k = 0;
        for (int r = 0; r < rows; r++)
        {
            rowStarts[r] = k;
            var row = dense.Slice(r * columns, columns);
            for (int c = 0; c < columns; c++)
            {
                if (row[c] == 0) continue;
                values[k] = row[c];
                if (narrow) narrowIndices![k] = (ushort)c; else wideIndices![k] = c;
                k++;
            }
        }
        rowStarts[rows] = k;
        return new CsrMatrix(rows, columns, values, rowStarts, narrowIndices, wideIndices);
    }

    /// <summary>The non-zeros of a 2-D float32 weight [rows, columns].</summary>
    public static CsrMatrix FromTensor(Tensor weight)
    {
        var dense = DenseValues(weight, out int rows, out int columns);
        return FromDense(dense, rows, columns);
    }

    /// <summary>The stored values, row after row.</summary>
    public ReadOnlySpan<float> Values => _values;

    /// <summary>Where each row's values start in <see cref="Values"/>, with the total count last (Rows + 1 entries).</summary>
    public ReadOnlySpan<int> RowStarts => _rowStarts;

    /// <summary>True if column indices are stored in 16 bits.</summary>
    public bool NarrowIndices => _narrow != null;

    /// <summary>The column of the <paramref name="k"/>-th stored value.</summary>
    public int ColumnOf(int k) => _narrow != null ? _narrow[k] : _wide![k];

    /// <inheritdoc />
    public override long StoredValues => _values.Length;

    /// <summary>Fraction of the matrix that is zero.</summary>
    public double Sparsity => 1 - (double)_values.Length / ((long)Rows * Columns);

    /// <inheritdoc />
    public override long StorageBytes => BytesFor(Rows, Columns, _values.Length);

    /// <summary>The bytes a CSR matrix of this shape with <paramref name="nonZeros"/> non-zeros occupies, to compare formats before building one.</summary>
    public static long BytesFor(int rows, int columns, long nonZeros) =>
        nonZeros * (sizeof(float) + (columns <= NarrowColumnLimit ? sizeof(ushort) : sizeof(int))) + (rows + 1L) * sizeof(int);

    /// <inheritdoc />
    public override string Format => "csr";

    /// <inheritdoc />
    public override Tensor ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (int r = 0; r < Rows; r++)
            for (int k = _rowStarts[r]; k < _rowStarts[r + 1]; k++)
                dense[(long)r * Columns + ColumnOf(k)] = _values[k];
        return tensor(dense, new long[] { Rows, Columns });
    }

    internal override unsafe void MultiplyVector(float* x, float* y, int threads, Epilogue epilogue)
    {
        if (_narrow != null) SparseKernels.Vector(new NarrowRows(this), Rows, x, y, threads, epilogue);
        else SparseKernels.Vector(new WideRows(this), Rows, x, y, threads, epilogue);
    }

    internal override unsafe void MultiplyColumns(float* x, float* y, int n, int threads, Epilogue epilogue)
    {
        if (_narrow != null) SparseKernels.Columns(new NarrowRows(this), Rows, x, y, n, threads, epilogue);
        else SparseKernels.Columns(new WideRows(this), Rows, x, y, n, threads, epilogue);
    }

    unsafe readonly struct NarrowRows(CsrMatrix m) : IRowLayout
    {
        readonly float* _values = Address(m._values);
        readonly int* _starts = Address(m._rowStarts);
        readonly ushort* _columns = Address(m._narrow!);
        public float* Values => _values;
        public int Start(int row) => _starts[row];
        public int End(int row) => _starts[row + 1];
        public int Column(int k, int rowStart) => _columns[k];
        public Vector256<int> Columns8(int k, int rowStart) => Avx2.ConvertToVector256Int32(_columns + k);
    }

    unsafe readonly struct WideRows(CsrMatrix m) : IRowLayout
    {
        readonly float* _values = Address(m._values);
        readonly int* _starts = Address(m._rowStarts);
        readonly int* _columns = Address(m._wide!);
        public float* Values => _values;
        public int Start(int row) => _starts[row];
        public int End(int row) => _starts[row + 1];
        public int Column(int k, int rowStart) => _columns[k];
        public Vector256<int> Columns8(int k, int rowStart) => Avx.LoadVector256(_columns + k);
    }
}
