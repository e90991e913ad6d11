using PruneSharp.Llm.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Pruning;

public class OwlAllocationTests
{
    [Theory]
    [InlineData(0.7, 0.08)]
    [InlineData(0.5, 0.05)]
    [InlineData(0.6, 0.2)]
    public void Densities_average_exactly_one_minus_S_stay_within_lambda_and_follow_the_outlier_ratios(double sparsity, double lambda)
    {
        // Skewed ratios (one large outlier layer): a plain width-2λ map would leave that layer beyond +λ.
        var ratios = new[] { 0.010, 0.012, 0.011, 0.060, 0.013, 0.009, 0.020, 0.015 };
        var densities = OwlAllocation.Densities(ratios, sparsity, lambda);
        Assert.Equal(1 - sparsity, densities.Average(), 12);
        Assert.All(densities, d => Assert.InRange(d, 1 - sparsity - lambda - 1e-12, 1 - sparsity + lambda + 1e-12));
        foreach (int a in Enumerable.Range(0, ratios.Length))
            foreach (int b in Enumerable.Range(0, ratios.Length))
                if (ratios[a] < ratios[b]) Assert.True(densities[a] < densities[b]);
        // The most outlier-heavy layer reaches the bound.
        Assert.Equal(1 - sparsity + lambda, densities.Max(), 12);
        // Symmetric ratios use the whole width 2λ.
        var symmetric = OwlAllocation.Densities(new[] { 0.0, 0.5, 1.0 }, sparsity, lambda);
        Assert.Equal(2 * lambda, symmetric.Max() - symmetric.Min(), 12);
        Assert.All(OwlAllocation.Densities(new[] { 0.3, 0.3 }, sparsity, lambda), d => Assert.Equal(1 - sparsity, d, 12));
    }

    [Fact]
    public void Outlier_ratio_counts_scores_above_M_times_the_layer_mean_over_all_its_linears()
    {
        var (w1, x) = LayerFixture.Make(8, 20, 32, 100);
        var (w2, _) = LayerFixture.Make(9, 12, 32, 10);
        var norms = x.square().sum(dim: 0);
        var scores = cat(new[] { w1.abs().mul(norms.sqrt()).reshape(-1), w2.abs().mul(norms.sqrt()).reshape(-1) }).to(ScalarType.Float64).data<double>().ToArray();
        double limit = 5 * scores.Average();
        double expected = scores.Count(s => s > limit) / (double)scores.Length;
        Assert.True(expected > 0);
        Assert.Equal(expected, OwlAllocation.OutlierRatio(new[] { (w1, norms), (w2, norms) }), 12);
    }

    [Fact]
    public void A_range_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OwlAllocation.Densities(new[] { 0.1, 0.2 }, 0.95, 0.08));
        Assert.Throws<ArgumentOutOfRangeException>(() => OwlAllocation.Densities(new[] { 0.1, 0.2 }, 1.0, 0.0));
    }
}
