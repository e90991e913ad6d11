using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PruneSharp.Sparse;

/// <summary>
/// Direct sparse convolution: each filter's non-zero weights with the input offset each one reads, precomputed as
/// channel · Hp · Wp + i · dilation · Wp + j · dilation in the padded input (Hp × Wp). An output row is then a sum
/// over the filter's non-zeros of a weight times a contiguous (stride 1) or strided run of one padded input row; with
/// stride 1, runs of eight outputs of four rows are held in registers across the whole filter (four independent FMA
/// chains sharing each weight); no im2col matrix is built. Zero-padding is a
/// copy of the input into a buffer whose border stays zero, so the inner loops have no bounds checks. Kept with every
/// weight (<c>keepZeros</c>) the same loop is the plan's dense direct convolution.
/// </summary>
public sealed unsafe class DirectConvolution
{
    readonly float[] _weights;
    readonly int[] _offsets, _starts;

    /// <summary>Builds the convolution for <paramref name="weight"/> [filters, channels, kh, kw] (row-major) at <paramref name="geometry"/>.</summary>
    /// <exception cref="ArgumentException">The weight does not have the geometry's size or the geometry is invalid.</exception>
    public DirectConvolution(ReadOnlySpan<float> weight, ConvGeometry geometry, bool keepZeros = false)
    {
        geometry.Validate();
        var g = Geometry = geometry;
        int perFilter = g.Channels * g.KernelHeight * g.KernelWidth;
        if (weight.Length != (long)g.Filters * perFilter)
            throw new ArgumentException($"a convolution of {g.Filters} filters over {g.Channels}x{g.KernelHeight}x{g.KernelWidth} needs {(long)g.Filters * perFilter} weights, got {weight.Length}");
        int count = 0;
        foreach (float w in weight) if (keepZeros || w != 0) count++;
        _weights = GC.AllocateUninitializedArray<float>(count, pinned: true);
        _offsets = GC.AllocateUninitializedArray<int>(count, pinned: true);
        _starts = GC.AllocateUninitializedArray<int>(g.Filters + 1, pinned: true);
        int k = 0, plane = g.PaddedHeight * g.PaddedWidth;
        for (int f = 0; f < g.Filters; f++)
        {
            _starts[f] = k;
            for (int index = 0; index < perFilter; index++)
            {
                float w = weight[f * perFilter + index];
                if (!keepZeros && w == 0) continue;
                int c = index / (g.KernelHeight * g.KernelWidth), i = index / g.KernelWidth % g.KernelHeight, j = index % g.KernelWidth;
                _weights[k] = w;
                _offsets[k] = c * plane + i * g.DilationHeight * g.PaddedWidth + j * g.DilationWidth;
                k++;
            }
        }
        _starts[g.Filters] = k;
    }

    /// <summary>The geometry.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>Weights stored (the non-zeros, or all of them when built with keepZeros).</summary>
    public int StoredWeights => _weights.Length;

    /// <summary>
    /// Convolves <paramref name="batch"/> examples: <paramref name="input"/> [batch, channels, height, width] gives
    /// <paramref name="output"/> [batch, filters, out height, out width]; <paramref name="bias"/> (one per filter) is
    /// added when given.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match the geometry and batch.</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch, int threads = 1, ReadOnlySpan<float> bias = default)
    {
        var g = Geometry;
        if (batch < 1 || threads < 1) throw new ArgumentException($"batch and threads must be at least 1, got {batch} and {threads}");
        if (input.Length != (long)batch * g.Channels * g.Height * g.Width) throw new ArgumentException($"the input holds {input.Length} values; {batch} examples of {g.Channels}x{g.Height}x{g.Width} need {(long)batch * g.Channels * g.Height * g.Width}");
        if (output.Length != OutputLength(batch)) throw new ArgumentException($"the output holds {output.Length} values; {OutputLength(batch)} are produced");
        if (!bias.IsEmpty && bias.Length != g.Filters) throw new ArgumentException($"the bias has {bias.Length} values for {g.Filters} filters");
        var padded = g.Padded ? new float[(long)batch * g.Channels * g.PaddedHeight * g.PaddedWidth] : null;
        fixed (float* x = input, y = output, p = padded, b = bias)
            Run(x, p, y, batch, threads, new Epilogue(null, bias.IsEmpty ? null : b, default));
    }

    /// <summary>Values of the output for <paramref name="batch"/> examples.</summary>
    public long OutputLength(int batch) => (long)batch * Geometry.Filters * Geometry.OutputHeight * Geometry.OutputWidth;

    /// <summary>
    /// The convolution over raw buffers: <paramref name="padded"/> is the zero-bordered copy of the input
    /// ([batch, channels, Hp, Wp], border zero) when the geometry pads, and unused otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Run(float* input, float* padded, float* output, int batch, int threads, Epilogue epilogue)
    {
        var g = Geometry;
        float* source = PaddedInput(g, input, padded, batch);
        long work = (long)_weights.Length * g.OutputHeight * g.OutputWidth * batch;
        if (threads == 1 || work < SparseKernels.ParallelWork)
        {
            for (int piece = 0; piece < batch * g.Filters; piece++) Filter(piece, source, output, epilogue);
            return;
        }
        nint ps = (nint)source, po = (nint)output;
        WorkSharing.Run(batch * g.Filters, threads, piece => Filter(piece, (float*)ps, (float*)po, epilogue));
    }

    /// <summary>
    /// The input as the kernels read it: <paramref name="input"/> itself when <paramref name="g"/> does not pad, else
    /// <paramref name="padded"/> ([batch, channels, Hp, Wp], border zero) with the input copied inside the border.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float* PaddedInput(ConvGeometry g, float* input, float* padded, int batch)
    {
        if (!g.Padded) return input;
        int w = g.Width, pw = g.PaddedWidth;
        for (int p = 0; p < batch * g.Channels; p++)
        {
            float* target = padded + (long)p * g.PaddedHeight * pw + g.PadTop * pw + g.PadLeft;
            float* from = input + (long)p * g.Height * w;
            for (int r = 0; r < g.Height; r++)
                Unsafe.CopyBlockUnaligned(target + r * pw, from + r * w, (uint)(w * sizeof(float)));
        }
        return padded;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Eight(float* w, int* offsets, int s, int e, float* at)
    {
        Vector256<float> a0 = default;
        for (int k = s; k < e; k++) a0 = Vector256.FusedMultiplyAdd(Vector256.Create(w[k]), Vector256.Load(at + offsets[k]), a0);
        return a0;
    }

    /// <summary>One output plane: example piece / filters, filter piece % filters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Filter(int piece, float* source, float* output, Epilogue epilogue)
    {
        var g = Geometry;
        int f = piece % g.Filters, example = piece / g.Filters;
        int s = _starts[f], e = _starts[f + 1];
        int oh = g.OutputHeight, ow = g.OutputWidth, pw = g.PaddedWidth, sw = g.StrideWidth;
        float* w = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_weights));
        int* offsets = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_offsets));
        float* x = source + (long)example * g.Channels * g.PaddedHeight * pw;
        float* plane = output + (long)piece * oh * ow;
        long rowStep = (long)g.StrideHeight * pw;
        int r = 0;
        if (sw == 1 && ow >= 8)
        {
            // Four output rows at a time: four independent FMA chains share each weight and offset.
            for (; r + 4 <= oh; r += 4)
            {
                float* row = x + r * rowStep;
                float* y = plane + (long)r * ow;
                for (int c = 0; c < ow; c += 8)
                {
                    // A last partial run of eight overlaps the previous one (outputs are stored, not accumulated).
                    int at = Math.Min(c, ow - 8);
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int k = s; k < e; k++)
                    {
                        var weight = Vector256.Create(w[k]);
                        float* p = row + offsets[k] + at;
                        a0 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(p), a0);
                        a1 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(p + rowStep), a1);
                        a2 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(p + 2 * rowStep), a2);
                        a3 = Vector256.FusedMultiplyAdd(weight, Vector256.Load(p + 3 * rowStep), a3);
                    }
                    epilogue.Apply(f, a0).Store(y + at);
                    epilogue.Apply(f, a1).Store(y + ow + at);
                    epilogue.Apply(f, a2).Store(y + 2 * ow + at);
                    epilogue.Apply(f, a3).Store(y + 3 * ow + at);
                }
            }
            for (; r < oh; r++)
            {
                float* row = x + r * rowStep;
                float* y = plane + (long)r * ow;
                for (int c = 0; c < ow; c += 8)
                {
                    int at = Math.Min(c, ow - 8);
                    epilogue.Apply(f, Eight(w, offsets, s, e, row + at)).Store(y + at);
                }
            }
            return;
        }
        for (; r < oh; r++)
        {
            float* row = x + r * rowStep;
            float* y = plane + (long)r * ow;
            for (int c = 0; c < ow; c++)
            {
                float sum = 0;
                float* at = row + (long)c * sw;
                for (int k = s; k < e; k++) sum += w[k] * at[offsets[k]];
                y[c] = epilogue.Apply(f, sum);
            }
        }
    }
}
