using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PruneSharp.Sparse;

/// <summary>The loops of a <see cref="CompiledPlan"/> other than the weight products: pooling, softmax, element-wise ops.</summary>
internal static unsafe class PlanKernels
{
    /// <summary>[rows, columns] → [columns, rows].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs at full speed from the first call (the plan measures on it)
    public static void Transpose(float* x, float* y, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                y[(long)c * rows + r] = x[(long)r * columns + c];
    }

    /// <summary>
    /// The im2col matrix of one example: row (c, i, j) of <paramref name="columns"/> [C·kh·kw, OH·OW] holds the padded
    /// input <paramref name="x"/> ([C, Hp, Wp]) under kernel tap (i, j) of channel c at every output position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs at full speed from the first call (the plan measures on it)
    public static void Im2Col(float* x, float* columns, ConvGeometry g)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth, pw = g.PaddedWidth;
        float* target = columns;
        for (int c = 0; c < g.Channels; c++)
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    float* tap = x + (long)c * g.PaddedHeight * pw + i * g.DilationHeight * pw + j * g.DilationWidth;
                    for (int r = 0; r < oh; r++)
                    {
                        float* row = tap + (long)r * g.StrideHeight * pw;
                        if (g.StrideWidth == 1) new ReadOnlySpan<float>(row, ow).CopyTo(new Span<float>(target, ow));
                        else for (int q = 0; q < ow; q++) target[q] = row[q * g.StrideWidth];
                        target += ow;
                    }
                }
    }

    /// <summary>y = act(x) element-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(float* x, float* y, long length, Activation activation)
    {
        long i = 0;
        for (; i + 8 <= length; i += 8) activation.Apply(Vector256.Load(x + i)).Store(y + i);
        for (; i < length; i++) y[i] = activation.Apply(x[i]);
    }

    /// <summary>y[n, c, …] = x[n, c, …] · scale[c] + shift[c] over <paramref name="outer"/> × channels × <paramref name="inner"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs at full speed from the first call (the plan measures on it)
    public static void ChannelAffine(float* x, float* y, int outer, int channels, int inner, float* scale, float* shift)
    {
        for (int n = 0; n < outer; n++)
            for (int c = 0; c < channels; c++)
            {
                long at = ((long)n * channels + c) * inner;
                float s = scale[c], t = shift[c];
                for (int i = 0; i < inner; i++) y[at + i] = x[at + i] * s + t;
            }
    }

    /// <summary>Binary element-wise op of two arrays of equal length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Binary(string op, float* a, float* b, float* y, long length)
    {
        long i = 0;
        switch (op)
        {
            case "Add":
                for (; i + 8 <= length; i += 8) (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(y + i);
                for (; i < length; i++) y[i] = a[i] + b[i];
                break;
            case "Sub":
                for (; i + 8 <= length; i += 8) (Vector256.Load(a + i) - Vector256.Load(b + i)).Store(y + i);
                for (; i < length; i++) y[i] = a[i] - b[i];
                break;
            case "Mul":
                for (; i + 8 <= length; i += 8) (Vector256.Load(a + i) * Vector256.Load(b + i)).Store(y + i);
                for (; i < length; i++) y[i] = a[i] * b[i];
                break;
            default:
                for (; i + 8 <= length; i += 8) (Vector256.Load(a + i) / Vector256.Load(b + i)).Store(y + i);
                for (; i < length; i++) y[i] = a[i] / b[i];
                break;
        }
    }

    /// <summary>Softmax (or its logarithm) of each row of [rows, columns].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs at full speed from the first call (the plan measures on it)
    public static void Softmax(float* x, float* y, int rows, int columns, bool log)
    {
        for (int r = 0; r < rows; r++)
        {
            float* a = x + (long)r * columns, b = y + (long)r * columns;
            float max = float.NegativeInfinity;
            for (int c = 0; c < columns; c++) max = Math.Max(max, a[c]);
            double sum = 0;
            for (int c = 0; c < columns; c++) sum += Math.Exp(a[c] - max);
            if (log)
            {
                float shift = max + (float)Math.Log(sum);
                for (int c = 0; c < columns; c++) b[c] = a[c] - shift;
            }
            else
                for (int c = 0; c < columns; c++) b[c] = (float)(Math.Exp(a[c] - max) / sum);
        }
    }

    /// <summary>
    /// 2-D max or average pooling of <paramref name="planes"/> planes H × W with a kernel, strides, dilations (max only)
    /// and begin/end pads; an average divides by the window's elements inside the input, or inside the padded input
    /// when <paramref name="countPad"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs at full speed from the first call (the plan measures on it)
    public static void Pool(float* x, float* y, int planes, int height, int width, int outHeight, int outWidth, int[] kernel, int[] stride,
        int[] dilation, int[] pads, bool max, bool countPad)
    {
        if (max && pads.All(v => v == 0))
        {
            MaxPoolUnpadded(x, y, planes, height, width, outHeight, outWidth, kernel, stride, dilation);
            return;
        }
        for (int p = 0; p < planes; p++)
        {
            float* input = x + (long)p * height * width, output = y + (long)p * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++)
                for (int ow = 0; ow < outWidth; ow++)
                {
                    int h0 = oh * stride[0] - pads[0], w0 = ow * stride[1] - pads[1];
                    float best = float.NegativeInfinity, sum = 0;
                    int count = 0;
                    for (int i = 0; i < kernel[0]; i++)
                    {
                        int h = h0 + i * dilation[0];
                        if ((uint)h >= (uint)height) continue;
                        for (int j = 0; j < kernel[1]; j++)
                        {
                            int w = w0 + j * dilation[1];
                            if ((uint)w >= (uint)width) continue;
                            float v = input[h * width + w];
                            if (v > best || float.IsNaN(v)) best = v;
                            sum += v;
                            count++;
                        }
                    }
                    if (max) output[oh * outWidth + ow] = best;
                    else
                    {
                        if (countPad)
                        {
                            int hs = Math.Min(h0 + kernel[0], height + pads[2]) - h0, ws = Math.Min(w0 + kernel[1], width + pads[3]) - w0;
                            count = hs * ws;
                        }
                        output[oh * outWidth + ow] = sum / count;
                    }
                }
        }
    }

    /// <summary>Max pooling without padding: every window lies inside the input, so no bounds are checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MaxPoolUnpadded(float* x, float* y, int planes, int height, int width, int outHeight, int outWidth, int[] kernel, int[] stride, int[] dilation)
    {
        int kh = kernel[0], kw = kernel[1], sh = stride[0], sw = stride[1], dh = dilation[0], dw = dilation[1];
        if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && outWidth >= 8 && Avx2.IsSupported)
        {
            MaxPool2x2(x, y, planes, height, width, outHeight, outWidth);
            return;
        }
        for (int p = 0; p < planes; p++)
        {
            float* input = x + (long)p * height * width, output = y + (long)p * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++)
            {
                float* top = input + oh * sh * width;
                for (int ow = 0; ow < outWidth; ow++)
                {
                    float* corner = top + ow * sw;
                    // Math.Max: no branch on the data (random comparisons mispredict), NaN propagates.
                    float best = float.NegativeInfinity;
                    for (int i = 0; i < kh; i++)
                        for (int j = 0; j < kw; j++)
                            best = Math.Max(best, corner[i * dh * width + j * dw]);
                    output[oh * outWidth + ow] = best;
                }
            }
        }
    }

    /// <summary>
    /// 2 × 2 max pooling with stride 2, eight outputs at a time: the larger of two input rows, then of each adjacent
    /// pair (shuffled apart into evens and odds, and the 128-bit halves put back in order). The last run of eight
    /// overlaps the previous one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MaxPool2x2(float* x, float* y, int planes, int height, int width, int outHeight, int outWidth)
    {
        for (int p = 0; p < planes; p++)
        {
            float* input = x + (long)p * height * width, output = y + (long)p * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++)
            {
                float* top = input + 2 * oh * width, bottom = top + width, target = output + oh * outWidth;
                for (int c = 0; c < outWidth; c += 8)
                {
                    int at = Math.Min(c, outWidth - 8);
                    var low = Vector256.Max(Vector256.Load(top + 2 * at), Vector256.Load(bottom + 2 * at));
                    var high = Vector256.Max(Vector256.Load(top + 2 * at + 8), Vector256.Load(bottom + 2 * at + 8));
                    var pairs = Vector256.Max(Avx.Shuffle(low, high, 0b10_00_10_00), Avx.Shuffle(low, high, 0b11_01_11_01));
                    Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle().Store(target + at);
                }
            }
        }
    }

    /// <summary>The mean or the maximum of each of <paramref name="planes"/> runs of <paramref name="size"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs at full speed from the first call (the plan measures on it)
    public static void GlobalPool(float* x, float* y, int planes, int size, bool max)
    {
        for (int p = 0; p < planes; p++)
        {
            float* a = x + (long)p * size;
            float best = float.NegativeInfinity, sum = 0;
            for (int i = 0; i < size; i++)
            {
                if (a[i] > best || float.IsNaN(a[i])) best = a[i];
                sum += a[i];
            }
            y[p] = max ? best : sum / size;
        }
    }
}
