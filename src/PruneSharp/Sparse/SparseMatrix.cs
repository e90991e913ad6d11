using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>
/// A pruned weight matrix W [rows, columns] kept without its zeros, multiplied with dense activations by
/// <see cref="SparseKernels"/>. Rows are a layer's outputs, columns its inputs (a Linear layer's weight as PyTorch stores
/// it, a convolution's filters flattened to channels × kernel height × kernel width). The formats are
/// <see cref="CsrMatrix"/> (any pattern), <see cref="BitmapMatrix"/> (any pattern, faster than CSR below 86 %
/// sparsity: <see cref="UnstructuredFormat"/>) and <see cref="NmMatrix"/> (N of every M consecutive weights kept);
/// <see cref="DenseMatrix"/> keeps every weight, for layers where the dense loop is faster.
/// </summary>
public abstract class SparseMatrix
{
    private protected SparseMatrix(int rows, int columns)
    {
        if (rows < 1 || columns < 1) throw new ArgumentException($"a sparse matrix needs at least one row and one column, got {rows}x{columns}");
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Rows of W (output features or filters).</summary>
    public int Rows { get; }

    /// <summary>Columns of W (input features, or channels × kernel elements).</summary>
    public int Columns { get; }

    /// <summary>Values stored (non-zeros, and for <see cref="NmMatrix"/> the zeros that fill a group's N slots).</summary>
    public abstract long StoredValues { get; }

    /// <summary>Bytes the format occupies: values, indices and row pointers.</summary>
    public abstract long StorageBytes { get; }

    /// <summary>Bytes of the same matrix stored dense in float32.</summary>
    public long DenseBytes => (long)Rows * Columns * sizeof(float);

    /// <summary>Name of the format, e.g. <c>csr</c> or <c>2:4</c>.</summary>
    public abstract string Format { get; }

    /// <summary>The matrix as a dense float32 tensor [rows, columns].</summary>
    public abstract Tensor ToDense();

    /// <summary>
    /// y = W·x for one input vector: <paramref name="x"/> holds <see cref="Columns"/> floats, <paramref name="y"/>
    /// receives <see cref="Rows"/>, each row passed through <paramref name="epilogue"/>.
    /// </summary>
    internal abstract unsafe void MultiplyVector(float* x, float* y, int threads, Epilogue epilogue);

    /// <summary>
    /// Y = W·X for <paramref name="n"/> input vectors stored as the columns of X [columns, n] (row-major), so that each
    /// stored weight multiplies a contiguous run of n activations; Y is [rows, n], each row passed through <paramref name="epilogue"/>.
    /// </summary>
    internal abstract unsafe void MultiplyColumns(float* x, float* y, int n, int threads, Epilogue epilogue);

    /// <summary>Reads a dense float32 matrix [rows, columns] (contiguous copy if needed) into a managed array.</summary>
    private protected static float[] DenseValues(Tensor weight, out int rows, out int columns)
    {
        if (weight.dim() != 2) throw new ArgumentException($"a sparse matrix is made from a 2-D weight, got shape [{string.Join(",", weight.shape)}]");
        if (weight.dtype != ScalarType.Float32) throw new ArgumentException($"a sparse matrix is made from a float32 weight, got {weight.dtype}");
        if (weight.shape[0] > int.MaxValue || weight.shape[1] > int.MaxValue) throw new ArgumentException($"weight [{string.Join(",", weight.shape)}] is too large for a sparse matrix");
        rows = (int)weight.shape[0];
        columns = (int)weight.shape[1];
        using var cpu = weight.detach().cpu().contiguous();
        return MemoryMarshal.Cast<byte, float>(cpu.bytes).ToArray();
    }

    /// <summary>An array on the pinned heap, so kernels can hold its address for the matrix's lifetime.</summary>
    private protected static T[] Pinned<T>(int length) where T : unmanaged => GC.AllocateUninitializedArray<T>(length, pinned: true);

    /// <summary>The address of a pinned array's first element.</summary>
    private protected static unsafe T* Address<T>(T[] pinned) where T : unmanaged =>
        (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}
