using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PruneSharp.Sparse;

/// <summary>The instruction sets a <see cref="BitmapMatrix"/> product can run on.</summary>
internal enum BitmapPath
{
    /// <summary>One value at a time, its column found from the lowest set bit of the chunk's mask.</summary>
    Scalar,
    /// <summary>Half a chunk (8 lanes) at a time: the packed values are permuted into their lanes by a table indexed by the mask byte.</summary>
    Avx2,
    /// <summary>A whole chunk at a time: VEXPANDPS places the packed values in the lanes whose mask bit is set.</summary>
    Avx512,
}

/// <summary>
/// Products with a <see cref="BitmapMatrix"/>. y = W·x (one input vector): per row, each chunk's packed values are spread into the lanes of their
/// columns (the others zero) and multiplied with the chunk of x in one fused multiply-add; the value pointer then
/// advances by the mask's popcount. Every load is contiguous: no gathers. The values are loaded with a plain vector load
/// and expanded in registers (the memory form of VEXPANDPS is several times slower on AMD Zen 4, where this was
/// measured); the matrix pads its values so that the load may run past a row's end. Several input vectors: each row's
/// columns are decoded once and each value multiplies a contiguous run of inputs, as CSR does.
/// </summary>
internal static unsafe class BitmapKernels
{
    /// <summary>The fastest path this processor supports.</summary>
    public static BitmapPath Best { get; } = IsSupported(BitmapPath.Avx512) ? BitmapPath.Avx512 : IsSupported(BitmapPath.Avx2) ? BitmapPath.Avx2 : BitmapPath.Scalar;

    /// <summary>True if this processor runs <paramref name="path"/>.</summary>
    public static bool IsSupported(BitmapPath path) => path switch
    {
        BitmapPath.Avx512 => Avx512F.IsSupported,
        BitmapPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    /// <summary>For each mask byte, the packed-value index each of the 8 lanes takes (its bit's rank; 0 for a clear bit).</summary>
    static readonly int* s_lanes = LaneTable();

    static int* LaneTable()
    {
        var table = (int*)NativeMemory.AlignedAlloc(256 * 8 * sizeof(int), 64);
        for (int mask = 0; mask < 256; mask++)
        {
            int rank = 0;
            for (int lane = 0; lane < 8; lane++) table[mask * 8 + lane] = (mask >> lane & 1) != 0 ? rank++ : 0;
        }
        return table;
    }

    /// <summary>Rows [<paramref name="first"/>, <paramref name="end"/>) of y = W·x.</summary>
    public static void Rows(BitmapMatrix.PackedRows m, BitmapPath path, int first, int end, float* x, float* y, Epilogue epilogue)
    {
        switch (path)
        {
            case BitmapPath.Avx512: Avx512Rows(m, first, end, x, y, epilogue); break;
            case BitmapPath.Avx2: Avx2Rows(m, first, end, x, y, epilogue); break;
            default: ScalarRows(m, first, end, x, y, epilogue); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    static void Avx512Rows(BitmapMatrix.PackedRows m, int first, int end, float* x, float* y, Epilogue epilogue)
    {
        var bits = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
        int chunks = m.Chunks, full = m.ColumnCount / BitmapMatrix.ChunkWidth;
        for (int r = first; r < end; r++)
        {
            float* v = m.Values + m.Start(r);
            ushort* masks = m.Masks + (long)r * chunks;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int c = 0;
            // Four chunks per turn: their value pointers come from the popcounts up front, so the four expansions are independent.
            for (; c + 4 <= full; c += 4)
            {
                int b0 = masks[c], b1 = masks[c + 1], b2 = masks[c + 2], b3 = masks[c + 3];
                float* v1 = v + BitOperations.PopCount((uint)b0), v2 = v1 + BitOperations.PopCount((uint)b1), v3 = v2 + BitOperations.PopCount((uint)b2);
                float* input = x + c * BitmapMatrix.ChunkWidth;
                a0 = Avx512F.FusedMultiplyAdd(Expand(v, b0, bits), Vector512.Load(input), a0);
                a1 = Avx512F.FusedMultiplyAdd(Expand(v1, b1, bits), Vector512.Load(input + 16), a1);
                a2 = Avx512F.FusedMultiplyAdd(Expand(v2, b2, bits), Vector512.Load(input + 32), a2);
                a3 = Avx512F.FusedMultiplyAdd(Expand(v3, b3, bits), Vector512.Load(input + 48), a3);
                v = v3 + BitOperations.PopCount((uint)b3);
            }
            for (; c < full; c++)
            {
                int b = masks[c];
                a0 = Avx512F.FusedMultiplyAdd(Expand(v, b, bits), Vector512.Load(x + c * BitmapMatrix.ChunkWidth), a0);
                v += BitOperations.PopCount((uint)b);
            }
            float sum = Vector512.Sum((a0 + a1) + (a2 + a3));
            if (c < chunks) sum += Tail(v, masks[c], x + c * BitmapMatrix.ChunkWidth);
            y[r] = epilogue.Apply(r, sum);
        }
    }

    /// <summary>The 16 packed values at <paramref name="v"/> spread into the lanes whose bit of <paramref name="mask"/> is set, zeros elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Expand(float* v, int mask, Vector512<int> bits) =>
        Avx512F.Expand(Vector512<float>.Zero, Vector512.Equals(Vector512.Create(mask) & bits, bits).AsSingle(), Vector512.Load(v));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    static void Avx2Rows(BitmapMatrix.PackedRows m, int first, int end, float* x, float* y, Epilogue epilogue)
    {
        var bits = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        int chunks = m.Chunks, full = m.ColumnCount / BitmapMatrix.ChunkWidth;
        int* lanes = s_lanes;
        for (int r = first; r < end; r++)
        {
            float* v = m.Values + m.Start(r);
            ushort* masks = m.Masks + (long)r * chunks;
            Vector256<float> a0 = default, a1 = default;
            int c = 0;
            for (; c < full; c++)
            {
                int low = masks[c] & 0xFF, high = masks[c] >> 8;
                float* v1 = v + BitOperations.PopCount((uint)low);
                float* input = x + c * BitmapMatrix.ChunkWidth;
                a0 = Fma.MultiplyAdd(Permute(v, low, lanes, bits), Avx.LoadVector256(input), a0);
                a1 = Fma.MultiplyAdd(Permute(v1, high, lanes, bits), Avx.LoadVector256(input + 8), a1);
                v = v1 + BitOperations.PopCount((uint)high);
            }
            float sum = Vector256.Sum(a0 + a1);
            if (c < chunks) sum += Tail(v, masks[c], x + c * BitmapMatrix.ChunkWidth);
            y[r] = epilogue.Apply(r, sum);
        }
    }

    /// <summary>The 8 packed values at <paramref name="v"/> moved into the lanes whose bit of the byte <paramref name="mask"/> is set, zeros elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Permute(float* v, int mask, int* lanes, Vector256<int> bits) =>
        Avx2.PermuteVar8x32(Avx.LoadVector256(v), Avx.LoadVector256(lanes + mask * 8)) & Vector256.Equals(Vector256.Create(mask) & bits, bits).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    static void ScalarRows(BitmapMatrix.PackedRows m, int first, int end, float* x, float* y, Epilogue epilogue)
    {
        int chunks = m.Chunks;
        for (int r = first; r < end; r++)
        {
            float* v = m.Values + m.Start(r);
            ushort* masks = m.Masks + (long)r * chunks;
            float sum = 0;
            for (int c = 0; c < chunks; c++)
            {
                sum += Tail(v, masks[c], x + c * BitmapMatrix.ChunkWidth);
                v += BitOperations.PopCount(masks[c]);
            }
            y[r] = epilogue.Apply(r, sum);
        }
    }

    /// <summary>
    /// Rows [<paramref name="first"/>, <paramref name="end"/>) of Y = W·X for X [columns, n]: each row's columns are
    /// decoded from its masks once, then every value multiplies its contiguous run of n inputs, 16 (or 8) at a time, with
    /// four values in flight per block of inputs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // measured on first use: no unoptimised tier
    public static void ColumnRows(BitmapMatrix.PackedRows m, BitmapPath path, int first, int end, float* x, float* y, int n, Epilogue epilogue)
    {
        // A compressed chunk is stored whole: room for one chunk past the row's last column.
        var buffer = ArrayPool<int>.Shared.Rent(m.ColumnCount + BitmapMatrix.ChunkWidth);
        fixed (int* decoded = buffer)
        {
            for (int r = first; r < end; r++)
            {
                int count = Decode(m, path, r, decoded);
                float* v = m.Values + m.Start(r);
                float* output = y + (long)r * n;
                int j = 0;
                if (Vector512.IsHardwareAccelerated) j = Blocks<Lanes512, Vector512<float>>(r, v, decoded, count, x, output, n, j, epilogue);
                j = Blocks<Lanes256, Vector256<float>>(r, v, decoded, count, x, output, n, j, epilogue);
                for (; j < n; j++)
                {
                    float sum = 0;
                    for (int k = 0; k < count; k++) sum += v[k] * x[(long)decoded[k] * n + j];
                    output[j] = epilogue.Apply(r, sum);
                }
            }
        }
        ArrayPool<int>.Shared.Return(buffer);
    }

    /// <summary>
    /// Output columns [<paramref name="j"/>, ...) of one row of Y = W·X, a block of <typeparamref name="TLanes"/>'s
    /// width at a time, four of the row's <paramref name="count"/> values in flight per block; returns where the blocks
    /// stopped (the columns left are fewer than one block). The vector type is a type argument, so the JIT compiles one
    /// copy per width with nothing left of the abstraction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Blocks<TLanes, TVector>(int r, float* v, int* columns, int count, float* x, float* output, int n, int j, Epilogue epilogue)
        where TLanes : struct, ILanes<TVector> where TVector : struct
    {
        for (; j + TLanes.Width <= n; j += TLanes.Width)
        {
            TVector a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 4 <= count; k += 4)
            {
                a0 = TLanes.MultiplyAdd(v[k], x + (long)columns[k] * n + j, a0);
                a1 = TLanes.MultiplyAdd(v[k + 1], x + (long)columns[k + 1] * n + j, a1);
                a2 = TLanes.MultiplyAdd(v[k + 2], x + (long)columns[k + 2] * n + j, a2);
                a3 = TLanes.MultiplyAdd(v[k + 3], x + (long)columns[k + 3] * n + j, a3);
            }
            for (; k < count; k++) a0 = TLanes.MultiplyAdd(v[k], x + (long)columns[k] * n + j, a0);
            TLanes.Store(TLanes.Add(TLanes.Add(a0, a1), TLanes.Add(a2, a3)), epilogue, r, output + j);
        }
        return j;
    }

    /// <summary>One vector width of <see cref="Blocks"/>: a weight times a run of inputs added to a sum, and the store through the epilogue.</summary>
    interface ILanes<TVector> where TVector : struct
    {
        static abstract int Width { get; }
        static abstract TVector MultiplyAdd(float weight, float* inputs, TVector sum);
        static abstract TVector Add(TVector a, TVector b);
        static abstract void Store(TVector sum, Epilogue epilogue, int row, float* output);
    }

    /// <summary>AVX-512: 16 inputs per block. These are small enough that the JIT inlines them into <see cref="Blocks"/>.</summary>
    readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static int Width => 16;
        public static Vector512<float> MultiplyAdd(float weight, float* inputs, Vector512<float> sum) => Vector512.FusedMultiplyAdd(Vector512.Create(weight), Vector512.Load(inputs), sum);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static void Store(Vector512<float> sum, Epilogue epilogue, int row, float* output) => epilogue.Apply(row, sum).Store(output);
    }

    /// <summary>AVX2: 8 inputs per block.</summary>
    readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static int Width => 8;
        public static Vector256<float> MultiplyAdd(float weight, float* inputs, Vector256<float> sum) => Vector256.FusedMultiplyAdd(Vector256.Create(weight), Vector256.Load(inputs), sum);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static void Store(Vector256<float> sum, Epilogue epilogue, int row, float* output) => epilogue.Apply(row, sum).Store(output);
    }

    /// <summary>
    /// Writes the columns of row <paramref name="row"/>'s values to <paramref name="columns"/> (which has room for one
    /// chunk more than the matrix has columns) and returns their count. On the AVX-512 path a chunk's column numbers
    /// are compressed to its set lanes and stored whole, without a branch per value; otherwise one bit at a time.
    /// </summary>
    static int Decode(BitmapMatrix.PackedRows m, BitmapPath path, int row, int* columns)
    {
        ushort* masks = m.Masks + (long)row * m.Chunks;
        int count = 0;
        if (path == BitmapPath.Avx512)
        {
            var bits = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (int chunk = 0; chunk < m.Chunks; chunk++)
            {
                int mask = masks[chunk];
                var set = Vector512.Equals(Vector512.Create(mask) & bits, bits);
                Avx512F.Compress(Vector512<int>.Zero, set, lanes + Vector512.Create(chunk * BitmapMatrix.ChunkWidth)).Store(columns + count);
                count += BitOperations.PopCount((uint)mask);
            }
            return count;
        }
        for (int chunk = 0; chunk < m.Chunks; chunk++)
            for (uint mask = masks[chunk]; mask != 0; mask &= mask - 1)
                columns[count++] = chunk * BitmapMatrix.ChunkWidth + BitOperations.TrailingZeroCount(mask);
        return count;
    }

    /// <summary>A chunk one value at a time (the scalar path, and the partial last chunk of a row: x ends inside it).</summary>
    static float Tail(float* v, uint mask, float* input)
    {
        float sum = 0;
        for (; mask != 0; mask &= mask - 1) sum += *v++ * input[BitOperations.TrailingZeroCount(mask)];
        return sum;
    }
}
