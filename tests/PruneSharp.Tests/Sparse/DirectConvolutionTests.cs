using PruneSharp.Sparse;

namespace PruneSharp.Tests.Sparse;

/// <summary>Direct sparse convolution against a naive float64 convolution, over strides, dilations, pads and odd sizes.</summary>
public class DirectConvolutionTests
{
    static double[] Naive(float[] x, float[] w, float[]? bias, ConvGeometry g, int batch)
    {
        var y = new double[batch * g.Filters * g.OutputHeight * g.OutputWidth];
        for (int n = 0; n < batch; n++)
            for (int f = 0; f < g.Filters; f++)
                for (int oh = 0; oh < g.OutputHeight; oh++)
                    for (int ow = 0; ow < g.OutputWidth; ow++)
                    {
                        double sum = bias?[f] ?? 0;
                        for (int c = 0; c < g.Channels; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int h = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight, v = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                                    if (h < 0 || h >= g.Height || v < 0 || v >= g.Width) continue;
                                    sum += (double)w[((f * g.Channels + c) * g.KernelHeight + i) * g.KernelWidth + j] * x[((n * g.Channels + c) * g.Height + h) * g.Width + v];
                                }
                        y[((n * g.Filters + f) * g.OutputHeight + oh) * g.OutputWidth + ow] = sum;
                    }
        return y;
    }

    public static TheoryData<ConvGeometry> Geometries => new()
    {
        new ConvGeometry(1, 28, 28, 6, 5, 5, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2), // LeNet-5 conv1
        new ConvGeometry(6, 14, 14, 16, 5, 5),                                                   // LeNet-5 conv2
        new ConvGeometry(3, 11, 9, 5, 3, 2, 2, 1, 1, 2, 0, 1, 2, 0),                           // strided, dilated, asymmetric
        new ConvGeometry(2, 7, 37, 3, 1, 3, 1, 1, 1, 1, 0, 0, 0, 5),                           // wide rows: 16-, 8- and scalar tails
        new ConvGeometry(4, 5, 5, 7, 3, 3, 2, 3, 2, 1, 1, 2, 1, 0),
        new ConvGeometry(1, 1, 1, 1, 1, 1),
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Direct_convolution_matches_the_naive_one(ConvGeometry g)
    {
        var random = new Random(g.GetHashCode());
        foreach (int batch in new[] { 1, 3 })
            foreach (bool keepZeros in new[] { false, true })
                foreach (int threads in new[] { 1, 2 })
                {
                    var w = Enumerable.Range(0, g.Filters * g.Channels * g.KernelHeight * g.KernelWidth)
                        .Select(_ => random.NextDouble() < 0.8 ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
                    // The last filter empty: its plane is the bias alone.
                    Array.Clear(w, (g.Filters - 1) * g.Channels * g.KernelHeight * g.KernelWidth, g.Channels * g.KernelHeight * g.KernelWidth);
                    var x = Enumerable.Range(0, batch * g.Channels * g.Height * g.Width).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
                    var bias = Enumerable.Range(0, g.Filters).Select(_ => (float)random.NextDouble()).ToArray();
                    var conv = new DirectConvolution(w, g, keepZeros);
                    Assert.Equal(keepZeros ? w.Length : w.Count(v => v != 0), conv.StoredWeights);
                    var y = new float[conv.OutputLength(batch)];
                    conv.Run(x, y, batch, threads, bias);
                    var expected = Naive(x, w, bias, g, batch);
                    for (int i = 0; i < y.Length; i++)
                        Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"{g} batch {batch}: element {i} is {y[i]}, expected {expected[i]}");
                }
    }

    [Fact]
    public void Wrong_sizes_are_refused()
    {
        var g = new ConvGeometry(2, 4, 4, 3, 3, 3);
        Assert.Throws<ArgumentException>(() => new DirectConvolution(new float[10], g));
        var conv = new DirectConvolution(new float[3 * 2 * 9], g);
        Assert.Throws<ArgumentException>(() => conv.Run(new float[31], new float[conv.OutputLength(1)], 1));
        Assert.Throws<ArgumentException>(() => new DirectConvolution(new float[3 * 2 * 9], g with { KernelHeight = 5, KernelWidth = 3 }));
    }
}
