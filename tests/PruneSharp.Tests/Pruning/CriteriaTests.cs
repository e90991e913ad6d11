using PruneSharp.Pruning;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

public class CriteriaTests
{
    [Fact]
    public void Random_is_reproducible_by_seed_and_differs_between_seeds()
    {
        var w = zeros(10, 10);
        var a = new RandomCriterion(1).Score("fc.weight", w, ScoringContext.None);
        var b = new RandomCriterion(1).Score("fc.weight", w, ScoringContext.None);
        var c = new RandomCriterion(2).Score("fc.weight", w, ScoringContext.None);
        var d = new RandomCriterion(1).Score("fc2.weight", w, ScoringContext.None);
        Assert.True(TestModels.Same(a, b));
        Assert.False(TestModels.Same(a, c));
        Assert.False(TestModels.Same(a, d));
    }

    [Fact]
    public void Lp_norm_reduces_units_as_the_norm()
    {
        var units = tensor(new float[] { 3, 4, 1, 1 }, new long[] { 2, 2 });
        var l2 = new LpNormCriterion(2);
        var reduced = l2.ReduceUnits(l2.Score("w", units, ScoringContext.None));
        Assert.True(reduced.allclose(tensor(new float[] { 5, (float)Math.Sqrt(2) })));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LpNormCriterion(0));
    }

    [Fact]
    public void Snip_scores_weight_times_gradient_and_asks_for_gradients_when_missing()
    {
        manual_seed(9);
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        var pruner = new Pruner(masks, new SnipCriterion(), new ElementGranularity());
        var missing = Assert.Throws<PruningException>(() => pruner.Prune(0.5, ScoringContext.FromGradients(model)));
        Assert.Contains("gradient of 'fc1.weight'", missing.Message);

        nn.functional.cross_entropy(model.call(randn(16, 12)), randint(0, 4, 16)).backward();
        var w = masks.Parameter("fc2.weight");
        var expected = (w.detach() * w.grad!).abs();
        pruner.Prune(0.5, ScoringContext.FromGradients(model));
        var keep = masks.Mask("fc2.weight");
        Assert.True(expected.masked_select(keep).min().item<float>() >= expected.masked_select(keep.logical_not()).max().item<float>());
    }
}
