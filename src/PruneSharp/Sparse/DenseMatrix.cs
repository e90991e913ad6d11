using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>
/// A weight matrix with every value kept, row-major: the dense contender of a <see cref="CompiledPlan"/>, run by the
/// same loops as the sparse formats (its row layout needs no index: a value's column is its place in the row) so that
/// a plan can keep a small or little-pruned layer dense without leaving its own buffers.
/// </summary>
public sealed class DenseMatrix : SparseMatrix
{
    readonly float[] _values;

    DenseMatrix(int rows, int columns, float[] values) : base(rows, columns) => _values = values;

    /// <summary>A copy of a dense row-major matrix [rows, columns].</summary>
    public static DenseMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        if (rows < 1 || columns < 1 || dense.Length != (long)rows * columns)
            throw new ArgumentException($"a {rows}x{columns} matrix needs {(long)rows * columns} values, got {dense.Length}");
        var values = Pinned<float>(dense.Length);
        dense.CopyTo(values);
        return new DenseMatrix(rows, columns, values);
    }

    /// <inheritdoc />
    public override long StoredValues => _values.Length;

    /// <inheritdoc />
    public override long StorageBytes => DenseBytes;

    /// <inheritdoc />
    public override string Format => "dense";

    /// <inheritdoc />
    public override Tensor ToDense() => tensor(_values, new long[] { Rows, Columns });

    internal override unsafe void MultiplyVector(float* x, float* y, int threads, Epilogue epilogue)
    {
        float* w = Address(_values);
        int columns = Columns;
        if (threads == 1 || (long)Rows * columns < SparseKernels.ParallelWork)
        {
            Dots(w, columns, 0, Rows, x, y, epilogue);
            return;
        }
        int chunks = Math.Min(Rows, threads * 8);
        nint px = (nint)x, py = (nint)y;
        int rows = Rows;
        WorkSharing.Run(chunks, threads, c => Dots(w, columns, (int)((long)rows * c / chunks), (int)((long)rows * (c + 1) / chunks), (float*)px, (float*)py, epilogue));
    }

    internal override unsafe void MultiplyColumns(float* x, float* y, int n, int threads, Epilogue epilogue) =>
        SparseKernels.Columns(new RowMajor(Address(_values), Columns), Rows, x, y, n, threads, epilogue);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Dots(float* w, int columns, int first, int end, float* x, float* y, Epilogue epilogue)
    {
        for (int r = first; r < end; r++)
        {
            float* row = w + (long)r * columns;
            int k = 0;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; k + 32 <= columns; k += 32)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(row + k), Vector256.Load(x + k), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(row + k + 8), Vector256.Load(x + k + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(row + k + 16), Vector256.Load(x + k + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(row + k + 24), Vector256.Load(x + k + 24), a3);
            }
            for (; k + 8 <= columns; k += 8)
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(row + k), Vector256.Load(x + k), a0);
            float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; k < columns; k++) sum += row[k] * x[k];
            y[r] = epilogue.Apply(r, sum);
        }
    }

    /// <summary>Rows of equal length with no index: the column of a value is its offset in the row.</summary>
    unsafe readonly struct RowMajor(float* values, int columns) : IRowLayout
    {
        public float* Values => values;
        public int Start(int row) => row * columns;
        public int End(int row) => (row + 1) * columns;
        public int Column(int k, int rowStart) => k - rowStart;
        public Vector256<int> Columns8(int k, int rowStart) => Vector256.Create(k - rowStart) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
    }
}
