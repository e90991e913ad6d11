using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class NormalizationTests
{
    /// <summary>Normalises x over its trailing <paramref name="count"/> dimensions with plain loops over rows.</summary>
    static (Tensor Y, Tensor Mean, Tensor InvStd) NaiveLayerNorm(Tensor x, int count, double epsilon)
    {
        long rows = x.shape[..^count].Aggregate(1L, (a, b) => a * b);
        double[] data = x.to_type(ScalarType.Float64).data<double>().ToArray();
        long width = data.Length / rows;
        var y = new double[data.Length];
        var means = new double[rows];
        var invStds = new double[rows];
        for (long r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (long i = 0; i < width; i++) mean += data[r * width + i];
            mean /= width;
            for (long i = 0; i < width; i++) variance += Math.Pow(data[r * width + i] - mean, 2);
            double invStd = 1 / Math.Sqrt(variance / width + epsilon);
            for (long i = 0; i < width; i++) y[r * width + i] = (data[r * width + i] - mean) * invStd;
            means[r] = mean;
            invStds[r] = invStd;
        }
        long[] statShape = x.shape[..^count].Concat(Enumerable.Repeat(1L, count)).ToArray();
        return (tensor(y).reshape(x.shape), tensor(means).reshape(statShape), tensor(invStds).reshape(statShape));
    }

    [Fact]
    public void LayerNormalization_last_axis_matches_the_naive_loops()
    {
        manual_seed(1);
        var x = randn(2, 3, 8);
        var scale = randn(8);
        var bias = randn(8);
        var (y, _, _) = NaiveLayerNorm(x, 1, 1e-5);
        AssertClose(y * scale + bias, Run("LayerNormalization", new[] { x, scale, bias }, opset: 17)[0], 1e-4, 1e-5);
    }

    [Fact]
    public void LayerNormalization_over_several_axes_returns_mean_and_inverse_std()
    {
        manual_seed(2);
        var x = randn(2, 3, 4);
        var scale = randn(4); // broadcast over the normalised shape (3, 4)
        var outputs = Run("LayerNormalization", new[] { x, scale, null }, Attrs(("axis", 1L), ("epsilon", 1e-3f)), opset: 17, outputs: 3);
        var (y, mean, invStd) = NaiveLayerNorm(x, 2, 1e-3);
        AssertClose(y * scale, outputs[0], 1e-4, 1e-5);
        AssertClose(mean, outputs[1], 1e-4, 1e-5);
        AssertClose(invStd, outputs[2], 1e-4, 1e-5);
    }
}

public class ChannelNormalizationTests
{
    /// <summary>Normalises x (N, C, ...) over groups of C/groups channels and the spatial positions, with loops.</summary>
    static Tensor NaiveGroupNorm(Tensor x, long groups, double epsilon)
    {
        long n = x.shape[0], c = x.shape[1];
        long span = x.numel() / (n * groups);
        var data = x.to_type(ScalarType.Float64).data<double>().ToArray();
        var y = new double[data.Length];
        for (long g = 0; g < n * groups; g++)
        {
            double mean = 0, variance = 0;
            for (long i = 0; i < span; i++) mean += data[g * span + i];
            mean /= span;
            for (long i = 0; i < span; i++) variance += Math.Pow(data[g * span + i] - mean, 2);
            double invStd = 1 / Math.Sqrt(variance / span + epsilon);
            for (long i = 0; i < span; i++) y[g * span + i] = (data[g * span + i] - mean) * invStd;
        }
        return tensor(y).reshape(x.shape);
    }

    [Fact]
    public void InstanceNormalization_normalises_each_plane()
    {
        manual_seed(1);
        var x = randn(2, 3, 4, 5);
        var scale = randn(3);
        var bias = randn(3);
        var y = Run("InstanceNormalization", new[] { x, scale, bias }, Attrs(("epsilon", 1e-3f)), constants: new[] { 1, 2 })[0];
        AssertClose(NaiveGroupNorm(x, 3, 1e-3) * scale.reshape(-1, 1, 1) + bias.reshape(-1, 1, 1), y, 1e-4, 1e-5);
    }

    [Fact]
    public void GroupNormalization_opset_21_scales_per_channel()
    {
        manual_seed(2);
        var x = randn(2, 6, 3, 2);
        var scale = randn(6);
        var bias = randn(6);
        var y = Run("GroupNormalization", new[] { x, scale, bias }, Attrs(("num_groups", 3L)), opset: 21, constants: new[] { 1, 2 })[0];
        AssertClose(NaiveGroupNorm(x, 3, 1e-5) * scale.reshape(-1, 1, 1) + bias.reshape(-1, 1, 1), y, 1e-4, 1e-5);
    }

    [Fact]
    public void GroupNormalization_opset_18_scales_per_group()
    {
        manual_seed(3);
        var x = randn(2, 6, 5);
        var scale = randn(2);
        var bias = randn(2);
        var y = Run("GroupNormalization", new[] { x, scale, bias }, Attrs(("num_groups", 2L)), opset: 18, constants: new[] { 1, 2 })[0];
        var perChannel = (Tensor t) => t.repeat_interleave(3).reshape(-1, 1);
        AssertClose(NaiveGroupNorm(x, 2, 1e-5) * perChannel(scale) + perChannel(bias), y, 1e-4, 1e-5);
    }

    [Fact]
    public void GroupNormalization_rejects_channels_not_divisible_by_the_groups()
    {
        var e = Assert.ThrowsAny<PruneSharp.Graph.GraphException>(() =>
            Run("GroupNormalization", new[] { randn(1, 5, 2), randn(5), randn(5) }, Attrs(("num_groups", 2L)), opset: 21));
        Assert.Contains("'node'", e.Message);
    }
}

public class LocalNormalizationTests
{
    [Theory]
    [InlineData(3L)]
    [InlineData(4L)]
    public void LRN_sums_squares_over_the_channel_window_the_spec_names(long size)
    {
        manual_seed(4);
        var x = randn(2, 5, 3, 2);
        var y = Run("LRN", new[] { x }, Attrs(("size", size), ("alpha", 0.1f), ("beta", 0.5f), ("bias", 2f)))[0];
        var expected = zeros_like(x);
        long before = (size - 1) / 2, after = size / 2;
        for (long c = 0; c < 5; c++)
        {
            var sum = zeros_like(x.select(1, c));
            for (long k = Math.Max(0, c - before); k <= Math.Min(4, c + after); k++) sum += x.select(1, k).square();
            expected.select(1, c).copy_(x.select(1, c) / (2 + 0.1 / size * sum).pow(0.5));
        }
        AssertClose(expected, y);
    }

    [Fact]
    public void MeanVarianceNormalization_gives_zero_mean_unit_variance_over_the_axes()
    {
        manual_seed(5);
        var x = randn(3, 2, 4, 4) * 3 + 1;
        var y = Run("MeanVarianceNormalization", new[] { x })[0];
        var dims = new long[] { 0, 2, 3 };
        AssertClose(zeros(1, 2, 1, 1), y.mean(dims, keepdim: true), 0, 1e-5);
        AssertClose(ones(1, 2, 1, 1), y.var(dims, unbiased: false, keepdim: true), 0, 1e-4);
    }
}
