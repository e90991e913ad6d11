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
