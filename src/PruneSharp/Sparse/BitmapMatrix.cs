using System.Numerics;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>
/// Bitmap sparse rows: each row is cut into chunks of <see cref="ChunkWidth"/> consecutive columns, and each chunk is a
/// 16-bit mask of which of its columns are non-zero followed (in one packed array per matrix) by just those values, in
/// column order. Where each row's values start is kept too, so rows can be handed to threads. A value's column is never
/// stored: it is its chunk's first column plus the rank of its bit, so at sparsity s the matrix costs
/// 4 (1 − s) + 2/16 bytes per dense element, 1.325 at 70 % (CSR with 16-bit columns: 1.8; dense: 4). Built for the
/// memory-bound product with one input vector, where <see cref="BitmapKernels"/> expands a chunk's packed values into
/// their lanes (AVX-512) or permutes them (AVX2) and multiplies them with the dense input chunk, without gathers.
/// </summary>
public sealed class BitmapMatrix : SparseMatrix
{
    /// <summary>Columns per chunk: one bit of a chunk's mask each.</summary>
    public const int ChunkWidth = 16;

    readonly ushort[] _masks;
    readonly float[] _values;
    readonly int[] _rowStarts;

    BitmapMatrix(int rows, int columns, ushort[] masks, float[] values, int[] rowStarts) : base(rows, columns)
    {
        _masks = masks;
        _values = values;
        _rowStarts = rowStarts;
        ChunksPerRow = (columns + ChunkWidth - 1) / ChunkWidth;
    }

    /// <summary>The non-zeros of a dense row-major matrix [rows, columns] (exact zeros are left out, nothing else).</summary>
    public static BitmapMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        if (rows < 1 || columns < 1 || dense.Length != (long)rows * columns)
            throw new ArgumentException($"a {rows}x{columns} matrix needs {(long)rows * columns} values, got {dense.Length}");
        int chunks = (columns + ChunkWidth - 1) / ChunkWidth;
        long count = 0;
        foreach (float value in dense) if (value != 0) count++;
        if (count > Array.MaxLength - ChunkWidth) throw new ArgumentException($"a {rows}x{columns} matrix with {count} non-zeros is too large for a bitmap matrix");
        var masks = Pinned<ushort>(checked(rows * chunks));
        // The kernels load a whole chunk's worth of values from where a chunk's values start: the array is padded with zeros.
        var values = Pinned<float>((int)count + ChunkWidth);
        var rowStarts = Pinned<int>(rows + 1);
        int k = 0;
        for (int r = 0; r < rows; r++)
        {
            rowStarts[r] = k;
            var row = dense.Slice(r * columns, columns);
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                int mask = 0, first = chunk * ChunkWidth;
                for (int c = first; c < Math.Min(first + ChunkWidth, columns); c++)
                {
                    if (row[c] == 0) continue;
                    mask |= 1 << (c - first);
                    values[k++] = row[c];
                }
                masks[r * chunks + chunk] = (ushort)mask;
            }
        }
        rowStarts[rows] = k;
        Array.Clear(values, k, ChunkWidth);
        return new BitmapMatrix(rows, columns, masks, values, rowStarts);
    }

    /// <summary>The non-zeros of a 2-D float32 weight [rows, columns].</summary>
    public static BitmapMatrix FromTensor(Tensor weight)
    {
        var dense = DenseValues(weight, out int rows, out int columns);
        return FromDense(dense, rows, columns);
    }

    /// <summary>
    /// The bytes a bitmap matrix of this shape with <paramref name="nonZeros"/> non-zeros occupies (see
    /// <see cref="StorageBytes"/>), to compare formats before building one.
    /// </summary>
    public static long BytesFor(int rows, int columns, long nonZeros) =>
        nonZeros * sizeof(float) + (long)rows * ((columns + ChunkWidth - 1) / ChunkWidth) * sizeof(ushort) + (rows + 1L) * sizeof(int);

    /// <summary>Chunks of <see cref="ChunkWidth"/> columns per row (the last one partial when the columns do not divide).</summary>
    public int ChunksPerRow { get; }

    /// <summary>Each chunk's mask, row after row: bit i set if the chunk's column i is non-zero.</summary>
    public ReadOnlySpan<ushort> Masks => _masks;

    /// <summary>The non-zeros, row after row and column after column.</summary>
    public ReadOnlySpan<float> Values => _values.AsSpan(0, _rowStarts[Rows]);

    /// <summary>Where each row's values start in <see cref="Values"/>, with the total count last (Rows + 1 entries).</summary>
    public ReadOnlySpan<int> RowStarts => _rowStarts;

    /// <inheritdoc />
    public override long StoredValues => _rowStarts[Rows];

    /// <inheritdoc />
    public override long StorageBytes => BytesFor(Rows, Columns, StoredValues);

    /// <inheritdoc />
    public override string Format => "bitmap";

    /// <summary>
    /// The instruction set the products use: the best one the processor supports unless set (tests set each supported
    /// one). Setting one the processor lacks throws.
    /// </summary>
    internal BitmapPath Path
    {
        get => _path;
        set => _path = BitmapKernels.IsSupported(value) ? value : throw new PlatformNotSupportedException($"this processor does not run the {value} bitmap kernel");
    }

    BitmapPath _path = BitmapKernels.Best;

    /// <inheritdoc />
    public override Tensor ToDense()
    {
        var dense = new float[(long)Rows * Columns];
        for (int r = 0; r < Rows; r++)
        {
            int k = _rowStarts[r];
            for (int chunk = 0; chunk < ChunksPerRow; chunk++)
                for (uint mask = _masks[r * ChunksPerRow + chunk]; mask != 0; mask &= mask - 1)
                    dense[(long)r * Columns + chunk * ChunkWidth + BitOperations.TrailingZeroCount(mask)] = _values[k++];
        }
        return tensor(dense, new long[] { Rows, Columns });
    }

    internal override unsafe void MultiplyVector(float* x, float* y, int threads, Epilogue epilogue)
    {
        var rows = new PackedRows(this);
        var path = Path;
        nint px = (nint)x, py = (nint)y;
        RunRows(rows, threads, 1, (first, end) => BitmapKernels.Rows(rows, path, first, end, (float*)px, (float*)py, epilogue));
    }

    internal override unsafe void MultiplyColumns(float* x, float* y, int n, int threads, Epilogue epilogue)
    {
        var rows = new PackedRows(this);
        var path = Path;
        nint px = (nint)x, py = (nint)y;
        RunRows(rows, threads, n, (first, end) => BitmapKernels.ColumnRows(rows, path, first, end, (float*)px, (float*)py, n, epilogue));
    }

    /// <summary>Runs <paramref name="body"/> over row ranges of nearly equal stored values, on the calling thread when the work is small.</summary>
    unsafe void RunRows(PackedRows rows, int threads, int n, RowRange body)
    {
        if (threads == 1 || StoredValues * n < SparseKernels.ParallelWork)
        {
            body(0, Rows);
            return;
        }
        var bounds = SparseKernels.RowChunks(rows, Rows, threads * 8);
        WorkSharing.Run(bounds.Length - 1, threads, c => body(bounds[c], bounds[c + 1]));
    }

    delegate void RowRange(int first, int end);

    /// <summary>The matrix's arrays as the kernels read them (pinned, so their addresses hold).</summary>
    internal readonly unsafe struct PackedRows(BitmapMatrix m) : IRowRanges
    {
        readonly int* _starts = Address(m._rowStarts);

        public float* Values { get; } = Address(m._values);
        public ushort* Masks { get; } = Address(m._masks);
        public int Chunks { get; } = m.ChunksPerRow;
        public int ColumnCount { get; } = m.Columns;
        public int Start(int row) => _starts[row];
        public int End(int row) => _starts[row + 1];
    }
}
