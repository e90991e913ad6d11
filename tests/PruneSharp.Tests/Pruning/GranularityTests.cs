using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

public class GranularityTests
{
    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    [InlineData(1, 4)]
    [InlineData(3, 8)]
    public void NM_keeps_exactly_N_of_every_M_along_the_linear_input_dimension(int n, int m)
    {
        manual_seed(5);
        using var model = nn.Linear(16, 6, hasBias: false);
        using var masks = new MaskSet(model);
        var weight = masks.Parameter("weight").detach().clone();
        new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(n, m)).Prune(1 - (double)n / m);
        var w = masks.Parameter("weight").detach();
        var groups = w.reshape(6, 16 / m, m);
        Assert.True(groups.ne(0).sum(2).eq(n).all().item<bool>());
        // The kept ones are the N largest of their group (naive reference per group).
        var values = TestModels.Values(weight.abs());
        var kept = masks.Mask("weight").reshape(-1).data<bool>().ToArray();
        for (int g = 0; g < values.Length / m; g++)
        {
            var group = Enumerable.Range(g * m, m).ToArray();
            var expected = group.OrderByDescending(i => values[i]).ThenBy(i => i).Take(n).ToHashSet();
            foreach (int i in group) Assert.Equal(expected.Contains(i), kept[i]);
        }
    }

    [Fact]
    public void NM_on_a_convolution_groups_input_channels_at_each_kernel_position()
    {
        manual_seed(6);
        using var conv = nn.Conv2d(8, 4, 3, bias: false);
        using var masks = new MaskSet(conv);
        new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(2, 4)).Prune(0.5);
        // [out, in, kh, kw] → [out, kh, kw, in]: every run of 4 consecutive input channels keeps 2.
        var perGroup = masks.Parameter("weight").detach().permute(0, 2, 3, 1).reshape(-1, 4).ne(0).sum(1);
        Assert.True(perGroup.eq(2).all().item<bool>());
    }

    [Fact]
    public void NM_after_an_earlier_prune_never_revives_and_keeps_at_most_N()
    {
        manual_seed(7);
        using var model = nn.Linear(8, 8, hasBias: false);
        using var masks = new MaskSet(model);
        new Pruner(masks, new RandomCriterion(1), new ElementGranularity()).Prune(0.5);
        var before = masks.Mask("weight").clone();
        new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(2, 4)).Prune(0.5);
        var after = masks.Mask("weight");
        Assert.Equal(0, TestModels.NonZeros(after.logical_and(before.logical_not())));
        Assert.True(after.reshape(-1, 4).sum(1).le(2).all().item<bool>());
        // Where a group still had ≥ 2 survivors, exactly 2 remain.
        var survivors = before.reshape(-1, 4).sum(1);
        var kept = after.reshape(-1, 4).sum(1);
        Assert.True(kept.eq(survivors.clamp_max(2)).all().item<bool>());
    }

    [Fact]
    public void NM_rejects_bad_N_M_and_an_M_that_does_not_divide_the_input()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NMGranularity(4, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NMGranularity(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NMGranularity(0, 4));
        using var model = nn.Linear(6, 4);
        using var masks = new MaskSet(model);
        var error = Assert.Throws<PruningException>(() => new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(2, 4)).Prune(0.5));
        Assert.Contains("M=4 does not divide", error.Message);
        Assert.Contains("'weight'", error.Message);
        Assert.Contains("reduction size of 'weight' (6 in dim 1", error.Message);
        var wrongSparsity = Assert.Throws<PruningException>(() => new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(1, 2)).Prune(0.7));
        Assert.Contains("0.5", wrongSparsity.Message);
        var global = new PruningScope { Allocation = Allocation.Global };
        Assert.Contains("local", Assert.Throws<PruningException>(() => new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(1, 2), global).Prune(0.5)).Message);
    }

    [Fact]
    public void Unit_views_round_trip()
    {
        var t = arange(2 * 8 * 3 * 3).reshape(2, 8, 3, 3);
        foreach (Granularity g in new Granularity[] { new ElementGranularity(), new BlockGranularity(2, 4), new KernelGranularity(), new NMGranularity(2, 4), new KernelPatternGranularity(KernelPatternSet.AllWithCentre()) })
            Assert.True(TestModels.Same(g.FromUnits(g.ToUnits("w", t), t.shape), t), g.Name);
        // A 2x4 block of the 2-D view [2, 72] holds rows 0-1 and four consecutive columns.
        var block = new BlockGranularity(2, 4).ToUnits("w", t)[1];
        Assert.Equal(new long[] { 4, 5, 6, 7, 76, 77, 78, 79 }, block.data<long>().ToArray());
    }

    [Fact]
    public void All_patterns_with_centre_are_the_56_four_entry_patterns_of_3x3()
    {
        var set = KernelPatternSet.AllWithCentre(3, 4);
        Assert.Equal(56, set.Patterns.Count);
        Assert.All(set.Patterns, p => { Assert.True(p[4]); Assert.Equal(4, p.Count(b => b)); });
        Assert.Equal(56, set.Patterns.Select(p => string.Concat(p.Select(b => b ? '1' : '0'))).Distinct().Count());
    }

    [Fact]
    public void Pattern_pruning_gives_every_kernel_its_best_allowed_pattern()
    {
        manual_seed(8);
        using var conv = nn.Conv2d(4, 6, 3, bias: false);
        using var masks = new MaskSet(conv);
        var weight = masks.Parameter("weight").detach().clone();
        var set = KernelPatternSet.MostFrequent(new[] { weight.abs() }, count: 6);
        Assert.Equal(6, set.Patterns.Count);
        new Pruner(masks, new MagnitudeCriterion(), new KernelPatternGranularity(set)).Prune(5.0 / 9);
        var kernels = masks.Mask("weight").reshape(-1, 9).data<bool>().ToArray();
        var magnitudes = TestModels.Values(weight.abs());
        for (int k = 0; k < 24; k++)
        {
            var chosen = kernels.Skip(9 * k).Take(9).ToArray();
            int index = set.Patterns.ToList().FindIndex(p => p.SequenceEqual(chosen));
            Assert.True(index >= 0, $"kernel {k} does not follow an allowed pattern");
            double Score(bool[] p) => Enumerable.Range(0, 9).Where(i => p[i]).Sum(i => (double)magnitudes[9 * k + i]);
            Assert.True(set.Patterns.All(p => Score(p) <= Score(chosen) + 1e-6));
        }
    }

    [Fact]
    public void Most_frequent_patterns_are_counted_from_top_magnitudes()
    {
        // Two kernels prefer the corners pattern, one the cross: with count 1 the corners pattern wins.
        var corners = new float[] { 9, 0, 9, 0, 1, 0, 9, 0, 0 };
        var cross = new float[] { 0, 9, 0, 9, 1, 9, 0, 0, 0 };
        var scores = tensor(corners.Concat(corners).Concat(cross).ToArray(), new long[] { 3, 1, 3, 3 });
        var set = KernelPatternSet.MostFrequent(new[] { scores }, count: 1);
        Assert.Equal(new[] { true, false, true, false, true, false, true, false, false }, set.Patterns[0]);
    }
}
