using PruneSharp.Graph;
using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class PoolingTests
{
    /// <summary>
    /// Pooling written from the ONNX operator text with plain loops: window starts at o·stride − pad_begin, taps
    /// step by the dilation, ceil_mode rounds the output size up but drops a window that would start in the end pads.
    /// </summary>
    static Tensor Naive(Tensor x, string mode, long[] kernel, long[] strides, long[] pads, long[]? dilations = null,
        bool ceil = false, bool includePad = false, double p = 2)
    {
        int n = kernel.Length;
        dilations ??= Enumerable.Repeat(1L, n).ToArray();
        long[] shape = x.shape, input = shape[2..];
        double[] data = x.to_type(ScalarType.Float64).data<double>().ToArray();
        var output = new long[n];
        for (int d = 0; d < n; d++)
        {
            long span = input[d] + pads[d] + pads[d + n] - ((kernel[d] - 1) * dilations[d] + 1);
            output[d] = (ceil ? (span + strides[d] - 1) / strides[d] : span / strides[d]) + 1;
            if (ceil && (output[d] - 1) * strides[d] >= input[d] + pads[d]) output[d]--;
        }
        long planeIn = input.Aggregate(1L, (a, b) => a * b), planeOut = output.Aggregate(1L, (a, b) => a * b);
        long kernelVolume = kernel.Aggregate(1L, (a, b) => a * b);
        var result = new double[shape[0] * shape[1] * planeOut];
        for (long plane = 0; plane < shape[0] * shape[1]; plane++)
            for (long o = 0; o < planeOut; o++)
            {
                long[] oi = Unflatten(o, output);
                double max = double.NegativeInfinity, sum = 0;
                long inside = 0, insidePadded = 0;
                for (long k = 0; k < kernelVolume; k++)
                {
                    long[] ki = Unflatten(k, kernel);
                    long[] pos = Enumerable.Range(0, n).Select(d => oi[d] * strides[d] - pads[d] + ki[d] * dilations[d]).ToArray();
                    if (Enumerable.Range(0, n).All(d => pos[d] >= -pads[d] && pos[d] < input[d] + pads[d + n])) insidePadded++;
                    if (!Enumerable.Range(0, n).All(d => pos[d] >= 0 && pos[d] < input[d])) continue;
                    double v = data[plane * planeIn + Flatten(pos, input)];
                    inside++;
                    max = Math.Max(max, v);
                    sum += mode == "lp" ? Math.Pow(Math.Abs(v), p) : v;
                }
                result[plane * planeOut + o] = mode switch
                {
                    "max" => max,
                    "avg" => sum / (includePad ? insidePadded : inside),
                    _ => Math.Pow(sum, 1 / p),
                };
            }
        return tensor(result).reshape(new[] { shape[0], shape[1] }.Concat(output).ToArray());
    }

    static long[] Unflatten(long index, long[] sizes)
    {
        var result = new long[sizes.Length];
        for (int d = sizes.Length - 1; d >= 0; d--) { result[d] = index % sizes[d]; index /= sizes[d]; }
        return result;
    }

    static long Flatten(long[] index, long[] sizes) => index.Zip(sizes).Aggregate(0L, (acc, t) => acc * t.Second + t.First);

    static Tensor Pool(string op, Tensor x, params (string, object)[] attributes) => Run(op, new[] { x }, Attrs(attributes))[0];

    [Fact]
    public void MaxPool_with_symmetric_pads_matches_torch_and_the_naive_loops()
    {
        manual_seed(1);
        var x = randn(2, 3, 7, 6);
        var y = Pool("MaxPool", x, ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }));
        AssertClose(nn.functional.max_pool2d(x, new long[] { 3, 3 }, new long[] { 2, 2 }, new long[] { 1, 1 }), y);
        AssertClose(Naive(x, "max", new long[] { 3, 3 }, new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }), y);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MaxPool_asymmetric_pads_dilations_and_ceil_mode_match_the_naive_loops(bool ceil)
    {
        manual_seed(2);
        var x = randn(2, 2, 9, 8);
        long[] kernel = { 3, 2 }, strides = { 2, 3 }, pads = { 0, 2, 2, 1 }, dilations = { 1, 2 };
        var y = Pool("MaxPool", x, ("kernel_shape", kernel), ("strides", strides), ("pads", pads), ("dilations", dilations), ("ceil_mode", ceil ? 1L : 0L));
        AssertClose(Naive(x, "max", kernel, strides, pads, dilations, ceil), y);
    }

    [Fact]
    public void MaxPool_ceil_mode_drops_a_window_that_would_start_in_the_end_padding()
    {
        var x = arange(4f).reshape(1, 1, 4);
        var y = Pool("MaxPool", x, ("kernel_shape", new long[] { 2 }), ("strides", new long[] { 2 }), ("pads", new long[] { 0, 2 }), ("ceil_mode", 1L));
        Assert.Equal(new long[] { 1, 1, 2 }, y.shape);
        AssertClose(tensor(new float[] { 1, 3 }).reshape(1, 1, 2), y);
    }

    [Theory]
    [InlineData("SAME_UPPER")]
    [InlineData("SAME_LOWER")]
    public void MaxPool_auto_pad_same_keeps_ceil_of_input_over_stride(string autoPad)
    {
        manual_seed(3);
        var x = randn(1, 2, 7, 6);
        var y = Pool("MaxPool", x, ("kernel_shape", new long[] { 4, 3 }), ("strides", new long[] { 2, 2 }), ("auto_pad", autoPad));
        // Total pads: (out-1)*stride + kernel - in = 3 (rows), 1 (columns); the odd one goes to the end for SAME_UPPER.
        long[] pads = autoPad == "SAME_UPPER" ? new long[] { 1, 0, 2, 1 } : new long[] { 2, 1, 1, 0 };
        AssertClose(Naive(x, "max", new long[] { 4, 3 }, new long[] { 2, 2 }, pads), y);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    public void MaxPool_indices_point_at_the_maxima_in_the_flattened_input(long storageOrder)
    {
        manual_seed(4);
        var x = randn(2, 3, 5, 6);
        var outputs = Run("MaxPool", new[] { x }, Attrs(("kernel_shape", new long[] { 2, 3 }), ("strides", new long[] { 2, 2 }),
            ("pads", new long[] { 1, 0, 0, 1 }), ("storage_order", storageOrder)), outputs: 2);
        Tensor y = outputs[0], indices = outputs[1];
        Assert.Equal(ScalarType.Int64, indices.dtype);
        // Column-major storage lays out each plane transposed.
        Tensor flat = storageOrder == 0 ? x.flatten() : x.transpose(2, 3).flatten();
        AssertClose(y, flat.gather(0, indices.flatten()).reshape(y.shape), 0, 0);
    }

    [Fact]
    public void MaxPool_1d_and_3d_match_the_naive_loops()
    {
        manual_seed(5);
        var x1 = randn(2, 2, 11);
        AssertClose(Naive(x1, "max", new long[] { 3 }, new long[] { 2 }, new long[] { 1, 0 }, ceil: true),
            Pool("MaxPool", x1, ("kernel_shape", new long[] { 3 }), ("strides", new long[] { 2 }), ("pads", new long[] { 1, 0 }), ("ceil_mode", 1L)));
        var x3 = randn(new long[] { 1, 2, 4, 5, 3 });
        AssertClose(Naive(x3, "max", new long[] { 2, 2, 2 }, new long[] { 1, 2, 1 }, new long[] { 0, 1, 0, 1, 0, 1 }),
            Pool("MaxPool", x3, ("kernel_shape", new long[] { 2, 2, 2 }), ("strides", new long[] { 1, 2, 1 }), ("pads", new long[] { 0, 1, 0, 1, 0, 1 })));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void AveragePool_divisor_follows_count_include_pad_with_asymmetric_pads_and_ceil_mode(bool includePad, bool ceil)
    {
        manual_seed(6);
        var x = randn(2, 3, 8, 7);
        long[] kernel = { 3, 2 }, strides = { 2, 2 }, pads = { 1, 0, 2, 1 };
        var y = Pool("AveragePool", x, ("kernel_shape", kernel), ("strides", strides), ("pads", pads),
            ("count_include_pad", includePad ? 1L : 0L), ("ceil_mode", ceil ? 1L : 0L));
        AssertClose(Naive(x, "avg", kernel, strides, pads, ceil: ceil, includePad: includePad), y);
    }

    [Fact]
    public void AveragePool_with_dilations_and_auto_pad_match_the_naive_loops()
    {
        manual_seed(7);
        var x = randn(1, 2, 9, 9);
        long[] kernel = { 3, 3 }, strides = { 1, 2 }, dilations = { 2, 1 };
        AssertClose(Naive(x, "avg", kernel, strides, new long[] { 1, 0, 2, 1 }, dilations),
            Pool("AveragePool", x, ("kernel_shape", kernel), ("strides", strides), ("dilations", dilations), ("pads", new long[] { 1, 0, 2, 1 })));
        // SAME_UPPER with stride 2 on 9: output 5, total pad 2 per dimension; pads are not counted by default.
        AssertClose(Naive(x, "avg", kernel, new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }),
            Pool("AveragePool", x, ("kernel_shape", kernel), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_UPPER")));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public void LpPool_is_the_p_norm_of_each_zero_padded_window(long p)
    {
        manual_seed(8);
        var x = randn(2, 2, 7, 6);
        long[] kernel = { 3, 2 }, strides = { 2, 1 }, pads = { 1, 0, 0, 1 }, dilations = { 1, 2 };
        AssertClose(Naive(x, "lp", kernel, strides, pads, dilations, p: p),
            Pool("LpPool", x, ("kernel_shape", kernel), ("strides", strides), ("pads", pads), ("dilations", dilations), ("p", p)), 1e-4, 1e-5);
    }

    [Fact]
    public void MaxUnpool_puts_the_pooled_maxima_back_where_MaxPool_found_them()
    {
        manual_seed(9);
        var x = randn(2, 3, 4, 6);
        var attributes = Attrs(("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        var pooled = Run("MaxPool", new[] { x }, attributes, outputs: 2);
        var y = Run("MaxUnpool", new[] { pooled[0], pooled[1] }, attributes)[0];
        Assert.Equal(x.shape, y.shape);
        AssertClose(pooled[0].flatten(), y.flatten().gather(0, pooled[1].flatten()), 0, 0);
        Assert.Equal(pooled[0].numel(), y.count_nonzero().item<long>());
        var larger = Run("MaxUnpool", new[] { pooled[0], pooled[1], tensor(new long[] { 2, 3, 5, 7 }) }, attributes)[0];
        AssertClose(y, larger.narrow(2, 0, 4).narrow(3, 0, 6), 0, 0);
    }

    [Fact]
    public void Pooling_without_kernel_shape_is_rejected_naming_the_node()
    {
        var e = Assert.ThrowsAny<GraphException>(() => Run("MaxPool", new[] { randn(1, 1, 4, 4) }, Attrs(("strides", new long[] { 2, 2 }))));
        Assert.Contains("'node'", e.Message);
        Assert.Contains("kernel_shape", e.Message);
    }

    [Fact]
    public void MaxPool_passes_gradients_to_the_maxima()
    {
        var x = randn(1, 1, 4, 4).requires_grad_();
        var graphY = Pool("MaxPool", x, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 0, 0 }));
        graphY.sum().backward();
        Assert.Equal(graphY.numel(), x.grad!.sum().item<float>());
    }
}
