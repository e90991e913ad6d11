using PruneSharp.Llm.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Pruning;

public class DsnotTests
{
    [Theory]
    [InlineData("0.5", "wanda")]
    [InlineData("0.7", "wanda")]
    [InlineData("0.6", "magnitude")]
    [InlineData("2:4", "wanda")]
    public void Refinement_never_raises_the_reconstruction_error_and_keeps_row_counts(string sparsity, string start)
    {
        var pattern = SparsityPattern.Parse(sparsity);
        var (w, x) = LayerFixture.Make(10, 48, 128, 768);
        using var statistics = new InputStatistics(128);
        statistics.Add(x);
        var h = statistics.Hessian();
        using var initial = start == "wanda" ? WandaPruning.Prune(w, statistics, pattern) : MagnitudePruning.Prune(w, pattern);
        var refined = Dsnot.Refine(w, initial.Mask, statistics, pattern, new DsnotOptions { UpdateThreshold = 0 });
        double before = ReconstructionError.Relative(w, initial.Weight, h);
        double after = ReconstructionError.Relative(w, w.mul(refined), h);
        Assert.True(after <= before * (1 + 1e-6), $"DSnoT raised the error from {before} to {after}");
        Assert.True(after < before, "no swap was made on a layer where the mean-based rule finds some");
        Assert.True(refined.sum(dim: 1).eq(initial.Mask.sum(dim: 1)).all().item<bool>());
        if (pattern.IsNM) Assert.True(refined.reshape(48, -1, pattern.M).sum(dim: 2).eq(pattern.N).all().item<bool>());
        // The direct error from the activations agrees.
        Assert.True(LayerFixture.DirectError(w, w.mul(refined), x) <= LayerFixture.DirectError(w, initial.Weight, x) * (1 + 1e-5));
    }

    [Fact]
    public void A_row_within_the_threshold_is_left_alone()
    {
        var (w, x) = LayerFixture.Make(11, 8, 32, 200);
        using var statistics = new InputStatistics(32);
        statistics.Add(x);
        using var initial = WandaPruning.Prune(w, statistics, SparsityPattern.Unstructured(0.5));
        var refined = Dsnot.Refine(w, initial.Mask, statistics, SparsityPattern.Unstructured(0.5), new DsnotOptions { UpdateThreshold = double.PositiveInfinity });
        Assert.True(refined.eq(initial.Mask).all().item<bool>());
    }
}
