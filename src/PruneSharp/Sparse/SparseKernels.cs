using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>Where each row's stored weights lie: what splitting rows over threads needs of a format.</summary>
internal interface IRowRanges
{
    /// <summary>Position of row <paramref name="row"/>'s first value.</summary>
    int Start(int row);
    /// <summary>Position after row <paramref name="row"/>'s last value.</summary>
    int End(int row);
}

/// <summary>
/// Where a row's stored weights lie and which input column each one reads: what <see cref="SparseKernels"/> needs of a
/// format. Implemented by small structs, so the kernels are compiled once per format with these calls inlined.
/// </summary>
internal unsafe interface IRowLayout : IRowRanges
{
    /// <summary>The stored values of every row, row after row.</summary>
    float* Values { get; }
    /// <summary>The column of the value at <paramref name="k"/> in the row starting at <paramref name="rowStart"/>.</summary>
    int Column(int k, int rowStart);
    /// <summary>The columns of the eight values from <paramref name="k"/> on (only called with AVX2; k − rowStart is a multiple of 8).</summary>
    Vector256<int> Columns8(int k, int rowStart);
}

/// <summary>
/// Sparse × dense products on the CPU with .NET hardware intrinsics (AVX2 gathers and FMA for one input vector,
/// Vector512/Vector256 FMA over contiguous runs of inputs for several), spread over threads by row ranges of equal
/// numbers of stored weights (and, for few rows and many inputs, by input ranges too).
/// </summary>
public static class SparseKernels
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread: handing work out costs more.</summary>
    internal const long ParallelWork = 1 << 16;

    /// <summary>
    /// Y = W·X for <paramref name="n"/> input vectors held as the columns of <paramref name="x"/> ([W.Columns, n],
    /// row-major); <paramref name="y"/> receives [W.Rows, n]. With n = 1 this is y = W·x.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match the matrix and n, or threads is below 1.</exception>
    public static unsafe void Multiply(SparseMatrix w, ReadOnlySpan<float> x, Span<float> y, int n, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (n < 1) throw new ArgumentException($"the number of input vectors must be at least 1, got {n}");
        if (threads < 1) throw new ArgumentException($"threads must be at least 1, got {threads}");
        if (x.Length != (long)w.Columns * n) throw new ArgumentException($"x holds {x.Length} values; a {w.Rows}x{w.Columns} matrix times {n} vector(s) needs {(long)w.Columns * n}");
        if (y.Length != (long)w.Rows * n) throw new ArgumentException($"y holds {y.Length} values; a {w.Rows}x{w.Columns} matrix times {n} vector(s) gives {(long)w.Rows * n}");
        fixed (float* px = x, py = y)
        {
            if (n == 1) w.MultiplyVector(px, py, threads, default);
            else w.MultiplyColumns(px, py, n, threads, default);
        }
    }

    /// <summary>
    /// A linear layer without bias, x·Wᵀ: <paramref name="x"/> is [batch, W.Columns] float32 and the result
    /// [batch, W.Rows]. One example runs as y = W·x; several are transposed first so that each weight multiplies a
    /// contiguous run of the batch.
    /// </summary>
    public static unsafe Tensor Linear(SparseMatrix w, Tensor x, int threads)
    {
        if (x.dim() != 2 || x.shape[1] != w.Columns || x.dtype != ScalarType.Float32)
            throw new ArgumentException($"a sparse linear layer of {w.Columns} inputs takes float32 [batch, {w.Columns}], got {x.dtype} [{string.Join(",", x.shape)}]");
        int batch = checked((int)x.shape[0]);
        if (batch == 0) return zeros(0, w.Rows);
        if (x.device_type != TorchSharp.DeviceType.CPU) throw new ArgumentException($"the sparse kernels run on the CPU; the input is on {x.device_type}");
        if (batch == 1)
        {
            // Every tensor call costs a trip into libtorch: a contiguous input is read in place.
            bool inPlace = x.is_contiguous();
            var input = inPlace ? x : x.contiguous();
            var output = empty(1, w.Rows);
            w.MultiplyVector(Pointer(input), Pointer(output), threads, default);
            if (!inPlace) input.Dispose();
            return output;
        }
        using var columns = x.t().contiguous();
        using var product = empty(w.Rows, batch);
        w.MultiplyColumns(Pointer(columns), Pointer(product), batch, threads, default);
        return product.t().contiguous();
    }

    /// <summary>
    /// Y = W·X per example for X [batch, W.Columns, n] (an im2col matrix per example), giving [batch, W.Rows, n].
    /// </summary>
    internal static unsafe Tensor MultiplyBatched(SparseMatrix w, Tensor x, int threads)
    {
        long batch = x.shape[0];
        int n = checked((int)x.shape[2]);
        using var input = x.contiguous();
        var output = empty(batch, w.Rows, n);
        float* source = Pointer(input), target = Pointer(output);
        for (long b = 0; b < batch; b++)
            w.MultiplyColumns(source + b * w.Columns * (long)n, target + b * w.Rows * (long)n, n, threads, default);
        return output;
    }

    /// <summary>The address of a contiguous CPU float32 tensor's first element.</summary>
    internal static unsafe float* Pointer(Tensor contiguous) =>
        (float*)Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(contiguous.bytes));

    /// <summary>Row boundaries that split the stored values into <paramref name="chunks"/> nearly equal parts.</summary>
    internal static int[] RowChunks<T>(in T layout, int rows, int chunks) where T : struct, IRowRanges
    {
        chunks = Math.Clamp(chunks, 1, rows);
        var bounds = new int[chunks + 1];
        long total = layout.End(rows - 1) - layout.Start(0);
        bounds[chunks] = rows;
        for (int c = 1; c < chunks; c++)
        {
            long target = layout.Start(0) + total * c / chunks;
            int low = bounds[c - 1], high = rows;
            while (low < high)
            {
                int mid = (low + high) >>> 1;
                if (layout.Start(mid) < target) low = mid + 1; else high = mid;
            }
            bounds[c] = low;
        }
        return bounds;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    internal static unsafe void Vector<T>(T layout, int rows, float* x, float* y, int threads, Epilogue epilogue) where T : struct, IRowLayout
    {
        long work = layout.End(rows - 1) - layout.Start(0);
        if (threads == 1 || work < ParallelWork)
        {
            VectorRows(layout, 0, rows, x, y, epilogue);
            return;
        }
        var bounds = RowChunks(layout, rows, threads * 8);
        nint px = (nint)x, py = (nint)y;
        WorkSharing.Run(bounds.Length - 1, threads, c => VectorRows(layout, bounds[c], bounds[c + 1], (float*)px, (float*)py, epilogue));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    static unsafe void VectorRows<T>(T layout, int first, int end, float* x, float* y, Epilogue epilogue) where T : struct, IRowLayout
    {
        float* v = layout.Values;
        bool gather = Avx2.IsSupported && Fma.IsSupported;
        for (int r = first; r < end; r++)
        {
            int s = layout.Start(r), e = layout.End(r), k = s;
            float sum = 0;
            if (gather && e - s >= 8)
            {
                // Four independent chains keep several gathers in flight.
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; k + 32 <= e; k += 32)
                {
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(v + k), Avx2.GatherVector256(x, layout.Columns8(k, s), 4), a0);
                    a1 = Fma.MultiplyAdd(Avx.LoadVector256(v + k + 8), Avx2.GatherVector256(x, layout.Columns8(k + 8, s), 4), a1);
                    a2 = Fma.MultiplyAdd(Avx.LoadVector256(v + k + 16), Avx2.GatherVector256(x, layout.Columns8(k + 16, s), 4), a2);
                    a3 = Fma.MultiplyAdd(Avx.LoadVector256(v + k + 24), Avx2.GatherVector256(x, layout.Columns8(k + 24, s), 4), a3);
                }
                for (; k + 8 <= e; k += 8)
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(v + k), Avx2.GatherVector256(x, layout.Columns8(k, s), 4), a0);
                sum = Vector256.Sum((a0 + a1) + (a2 + a3));
            }
            for (; k < e; k++) sum += v[k] * x[layout.Column(k, s)];
            y[r] = epilogue.Apply(r, sum);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    internal static unsafe void Columns<T>(T layout, int rows, float* x, float* y, int n, int threads, Epilogue epilogue) where T : struct, IRowLayout
    {
        long work = (long)(layout.End(rows - 1) - layout.Start(0)) * n;
        if (threads == 1 || work < ParallelWork)
        {
            ColumnRows(layout, 0, rows, 0, n, x, y, n, epilogue);
            return;
        }
        // Few rows and many inputs (a convolution's first layer): split the inputs as well, in runs of 16.
        var bounds = RowChunks(layout, rows, threads * 8);
        int rowChunks = bounds.Length - 1;
        int blocks = Math.Clamp((threads * 8 + rowChunks - 1) / rowChunks, 1, (n + 15) / 16);
        int width = ((n + blocks - 1) / blocks + 15) / 16 * 16;
        blocks = (n + width - 1) / width;
        nint px = (nint)x, py = (nint)y;
        WorkSharing.Run(rowChunks * blocks, threads, task =>
        {
            int c = task / blocks, j0 = task % blocks * width;
            ColumnRows(layout, bounds[c], bounds[c + 1], j0, Math.Min(n, j0 + width), (float*)px, (float*)py, n, epilogue);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    static unsafe void ColumnRows<T>(T layout, int first, int end, int j0, int j1, float* x, float* y, int n, Epilogue epilogue) where T : struct, IRowLayout
    {
        float* v = layout.Values;
        for (int r = first; r < end; r++)
        {
            int s = layout.Start(r), e = layout.End(r), j = j0;
            float* output = y + (long)r * n;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 64 <= j1; j += 64)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int k = s; k < e; k++)
                    {
                        var weight = Vector512.Create(v[k]);
                        float* input = x + (long)layout.Column(k, s) * n + j;
                        a0 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(input), a0);
                        a1 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(input + 16), a1);
                        a2 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(input + 32), a2);
                        a3 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(input + 48), a3);
                    }
                    epilogue.Apply(r, a0).Store(output + j); epilogue.Apply(r, a1).Store(output + j + 16); epilogue.Apply(r, a2).Store(output + j + 32); epilogue.Apply(r, a3).Store(output + j + 48);
                }
                for (; j + 16 <= j1; j += 16)
                {
                    Vector512<float> a0 = default;
                    for (int k = s; k < e; k++)
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(v[k]), Vector512.Load(x + (long)layout.Column(k, s) * n + j), a0);
                    epilogue.Apply(r, a0).Store(output + j);
                }
            }
            else
            {
                for (; j + 32 <= j1; j += 32)
                {
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int k = s; k < e; k++)
                    {
                        var weight = Vector256.Create(v[k]);
                        float* input = x + (long)layout.Column(k, s) * n + j;
                        a0 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(input), a0);
                        a1 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(input + 8), a1);
                        a2 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(input + 16), a2);
                        a3 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(input + 24), a3);
                    }
                    epilogue.Apply(r, a0).Store(output + j); epilogue.Apply(r, a1).Store(output + j + 8); epilogue.Apply(r, a2).Store(output + j + 16); epilogue.Apply(r, a3).Store(output + j + 24);
                }
            }
            for (; j + 8 <= j1; j += 8)
            {
                Vector256<float> a0 = default;
                for (int k = s; k < e; k++)
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(v[k]), Vector256.Load(x + (long)layout.Column(k, s) * n + j), a0);
                epilogue.Apply(r, a0).Store(output + j);
            }
            for (; j < j1; j++)
            {
                float sum = 0;
                for (int k = s; k < e; k++) sum += v[k] * x[(long)layout.Column(k, s) * n + j];
                output[j] = epilogue.Apply(r, sum);
            }
        }
    }
}
