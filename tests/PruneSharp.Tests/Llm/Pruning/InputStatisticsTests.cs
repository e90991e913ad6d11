using PruneSharp.Llm.Pruning;
using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Pruning;

public class InputStatisticsTests
{
    [Theory]
    [InlineData(ScalarType.Float64, 2e-7)]  // one float32 rounding of the result
    [InlineData(ScalarType.Float32, 1e-5)]
    public void Batches_accumulate_to_the_statistics_of_all_tokens_at_once(ScalarType accumulation, double tolerance)
    {
        var (_, x) = LayerFixture.Make(1, 4, 24, 300, ScalarType.Float64);
        using var statistics = new InputStatistics(24, accumulation: accumulation);
        // Uneven batches, one of them a [batch, sequence, features] window.
        statistics.Add(x.narrow(0, 0, 100).reshape(4, 25, 24));
        statistics.Add(x.narrow(0, 100, 7));
        statistics.Add(x.narrow(0, 107, 193));
        Assert.Equal(300, statistics.Tokens);
        var hessian = LayerFixture.Hessian(x);
        double scale = hessian.abs().max().item<double>();
        Assert.True(statistics.Hessian().to(ScalarType.Float64).sub(hessian).abs().max().item<double>() <= tolerance * scale, "H");
        var norms = x.square().sum(dim: 0);
        Assert.True(statistics.ColumnNormsSquared().to(ScalarType.Float64).allclose(norms, rtol: 1e-6, atol: 0), "norms");
        Assert.True(statistics.Mean().to(ScalarType.Float64).allclose(x.mean(new long[] { 0 }), rtol: 1e-4, atol: 1e-5));
        Assert.True(statistics.Variance().to(ScalarType.Float64).allclose(x.var(0, unbiased: false), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void A_mismatched_width_or_a_NaN_is_one_clear_error()
    {
        using var statistics = new InputStatistics(8);
        var wrong = Assert.Throws<PruningException>(() => statistics.Add(ones(3, 7)));
        Assert.Contains("8 input features", wrong.Message);
        var bad = ones(2, 8);
        bad[0, 3] = tensor(float.NaN);
        Assert.Contains("NaN", Assert.Throws<PruningException>(() => statistics.Add(bad)).Message);
        Assert.Equal(0, statistics.Tokens);
        Assert.Throws<PruningException>(() => statistics.Hessian());
        using var noHessian = new InputStatistics(8, hessian: false);
        noHessian.Add(ones(2, 8));
        Assert.Contains("without the Hessian", Assert.Throws<PruningException>(() => noHessian.Hessian()).Message);
    }
}
