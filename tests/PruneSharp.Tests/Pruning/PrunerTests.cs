using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

public class PrunerTests
{
    static readonly string[] Weights = { "fc1.weight", "fc2.weight", "fc3.weight" };

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void LocalMagnitude_prunes_exactly_round_s_n_per_layer_and_keeps_the_largest(double sparsity)
    {
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        var original = Weights.ToDictionary(n => n, n => masks.Parameter(n).detach().clone());
        var result = new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity()).Prune(sparsity);
        Assert.Equal(Weights, result.Select(r => r.Name));
        foreach (var name in Weights)
        {
            long n = original[name].numel();
            long pruned = (long)Math.Round(sparsity * n, MidpointRounding.ToEven);
            Assert.Equal(n - pruned, masks.Kept(name));
            // Naive reference: every kept magnitude ≥ every pruned magnitude.
            var magnitudes = TestModels.Values(original[name].abs());
            var keep = masks.Mask(name).reshape(-1).data<bool>().ToArray();
            if (pruned > 0 && pruned < n)
                Assert.True(magnitudes.Where((_, i) => keep[i]).Min() >= magnitudes.Where((_, i) => !keep[i]).Max());
        }
        Assert.Equal(16 * 12 + 8 * 16 + 4 * 8 + 16 + 8 + 4 - result.Sum(r => r.Elements - r.Kept), model.parameters().Sum(p => TestModels.NonZeros(p)));
    }

    [Fact]
    public void Biases_and_norm_scales_are_excluded_by_default()
    {
        using var model = TestModels.Cnn();
        using var masks = new MaskSet(model);
        var result = new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity()).Prune(0.5);
        Assert.Equal(new[] { "conv1.weight", "conv2.weight", "fc.weight" }, result.Select(r => r.Name));
    }

    [Fact]
    public void GlobalMagnitude_keeps_exact_count_and_matches_a_sorted_reference()
    {
        using var model = TestModels.Mlp();
        // Scale one layer so that global and local differ clearly.
        using (no_grad()) model.named_parameters().First(p => p.name == "fc2.weight").parameter.mul_(5);
        using var masks = new MaskSet(model);
        var all = Weights.SelectMany(n => TestModels.Values(masks.Parameter(n).abs())).ToArray();
        const double sparsity = 0.75;
        long pruned = (long)Math.Round(sparsity * all.Length, MidpointRounding.ToEven);
        // Reference: stable sort of (score, index); the first `pruned` go.
        var expectedPruned = all.Select((v, i) => (v, i)).OrderBy(t => t.v).ThenBy(t => t.i).Take((int)pruned).Select(t => t.i).ToHashSet();

        new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), new PruningScope { Allocation = Allocation.Global }).Prune(sparsity);
        var keep = Weights.SelectMany(n => masks.Mask(n).reshape(-1).data<bool>().ToArray()).ToArray();
        Assert.Equal(all.Length - pruned, keep.Count(k => k));
        for (int i = 0; i < all.Length; i++) Assert.Equal(!expectedPruned.Contains(i), keep[i]);
        Assert.True(masks.Kept("fc2.weight") > masks.Kept("fc1.weight"));
    }

    [Fact]
    public void Ties_are_broken_by_index_deterministically()
    {
        using var model = TestModels.Mlp();
        using (no_grad()) foreach (var p in model.parameters()) p.fill_(0.5);
        using var masks = new MaskSet(model);
        new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), new PruningScope { Allocation = Allocation.Global }).Prune(0.625);
        // 352 weights in module order: the first 220 go, i.e. all of fc1 (192) and the first 28 of fc2.
        Assert.Equal(0, masks.Kept("fc1.weight"));
        var fc2 = masks.Mask("fc2.weight").reshape(-1).data<bool>().ToArray();
        Assert.All(fc2.Take(28), k => Assert.False(k));
        Assert.All(fc2.Skip(28), k => Assert.True(k));
        Assert.Equal(32, masks.Kept("fc3.weight"));
    }

    [Fact]
    public void Iterative_pruning_ranks_only_survivors()
    {
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        var pruner = new Pruner(masks, new RandomCriterion(3), new ElementGranularity());
        pruner.Prune(0.5);
        var first = masks.Mask("fc1.weight").clone();
        pruner = new Pruner(masks, new RandomCriterion(4), new ElementGranularity());
        pruner.Prune(0.75);
        var second = masks.Mask("fc1.weight");
        // Nothing pruned in round one comes back, and the total is exact: round(0.75·192) = 144 pruned.
        Assert.Equal(0, TestModels.NonZeros(second.logical_and(first.logical_not())));
        Assert.Equal(192 - 144, masks.Kept("fc1.weight"));
    }

    [Fact]
    public void Block_and_kernel_pruning_remove_whole_units_in_exact_numbers()
    {
        using var model = TestModels.Cnn();
        using var masks = new MaskSet(model);
        var scope = new PruningScope { Include = new[] { "conv*.weight" } };
        new Pruner(masks, new LpNormCriterion(2), new KernelGranularity(), scope).Prune(0.5);
        foreach (var name in new[] { "conv1.weight", "conv2.weight" })
        {
            var kernelsAlive = masks.Mask(name).reshape(-1, 9);
            var perKernel = kernelsAlive.sum(1).data<long>().ToArray();
            Assert.All(perKernel, c => Assert.True(c == 0 || c == 9));
            long kernels = perKernel.Length;
            Assert.Equal(kernels - (long)Math.Round(0.5 * kernels, MidpointRounding.ToEven), perKernel.Count(c => c == 9));
        }

        using var mlp = TestModels.Mlp();
        using var mlpMasks = new MaskSet(mlp);
        new Pruner(mlpMasks, new MagnitudeCriterion(), new BlockGranularity(4, 4)).Prune(0.5);
        // fc1 [16,12] has 4x3 = 12 blocks of 4x4 → 6 pruned; each block is all kept or all pruned.
        var blocks = mlpMasks.Mask("fc1.weight").reshape(4, 4, 3, 4).permute(0, 2, 1, 3).reshape(12, 16).sum(1).data<long>().ToArray();
        Assert.All(blocks, c => Assert.True(c == 0 || c == 16));
        Assert.Equal(6, blocks.Count(c => c == 0));
    }

    [Fact]
    public void Block_ranking_uses_the_block_norm()
    {
        using var model = nn.Linear(4, 2, hasBias: false);
        using (no_grad())
            model.weight!.copy_(tensor(new float[] { 3, 0, 1, 1, 1, 1, 1, 1 }, new long[] { 2, 4 }));
        // Blocks 1x2: [3,0] [1,1] [1,1] [1,1]; L1 sums 3,2,2,2 but L∞ 3,1,1,1; L2 3, 1.41...
        using var masks = new MaskSet(model);
        new Pruner(masks, new LpNormCriterion(double.PositiveInfinity), new BlockGranularity(1, 2)).Prune(0.75);
        Assert.Equal(new[] { true, true, false, false, false, false, false, false }, masks.Mask("weight").reshape(-1).data<bool>().ToArray());
    }

    [Fact]
    public void Overrides_and_exclusions_are_honoured()
    {
        using var model = TestModels.Cnn();
        using var masks = new MaskSet(model);
        var scope = new PruningScope
        {
            Exclude = new[] { "conv1.*" },
            Overrides = new Dictionary<string, double> { ["fc.weight"] = 0.25 },
        };
        var result = new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), scope).Prune(0.5);
        Assert.DoesNotContain(result, r => r.Name == "conv1.weight");
        Assert.Equal(40 - 10, masks.Kept("fc.weight"));
        Assert.Equal(576 - 288, masks.Kept("conv2.weight"));
        Assert.False(masks.Contains("conv1.weight"));

        using var masks2 = new MaskSet(model);
        var byType = new PruningScope { MinRank = 1, ExcludeModuleTypes = new[] { typeof(TorchSharp.Modules.BatchNorm2d) } };
        var names = new Pruner(masks2, new MagnitudeCriterion(), new ElementGranularity(), byType).Prune(0.1).Select(r => r.Name).ToList();
        Assert.Contains("conv1.bias", names);
        Assert.DoesNotContain("bn1.weight", names);
    }

    [Fact]
    public void Minimum_density_guard_holds_under_global_pruning_and_the_total_stays_exact()
    {
        using var model = TestModels.Mlp();
        // fc3 is tiny in magnitude: global pruning would wipe it out.
        using (no_grad()) model.named_parameters().First(p => p.name == "fc3.weight").parameter.mul_(1e-3);
        using var masks = new MaskSet(model);
        var scope = new PruningScope { Allocation = Allocation.Global, MinDensity = 0.25 };
        new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), scope).Prune(0.6);
        Assert.Equal(8, masks.Kept("fc3.weight")); // ceil(0.25·32)
        long total = 192 + 128 + 32;
        Assert.Equal(total - (long)Math.Round(0.6 * total, MidpointRounding.ToEven), Weights.Sum(masks.Kept));
        Assert.All(Weights, n => Assert.True(masks.Kept(n) >= Math.Ceiling(0.25 * masks.Parameter(n).numel())));

        using var local = new MaskSet(model);
        new Pruner(local, new MagnitudeCriterion(), new ElementGranularity(), new PruningScope { MinDensity = 0.3 }).Prune(0.9);
        Assert.All(Weights, n => Assert.Equal((long)Math.Ceiling(0.3 * local.Parameter(n).numel()), local.Kept(n)));

        using var other = new MaskSet(model);
        var impossible = new PruningScope { Allocation = Allocation.Global, MinDensity = 0.5 };
        Assert.Contains("minimum density", Assert.Throws<PruningException>(() =>
            new Pruner(other, new MagnitudeCriterion(), new ElementGranularity(), impossible).Prune(0.8)).Message);
    }

    [Fact]
    public void Erk_allocation_sums_to_the_target_and_favours_small_layers()
    {
        using var model = TestModels.Cnn();
        using var masks = new MaskSet(model);
        var scope = new PruningScope { Allocation = Allocation.Erk };
        var result = new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), scope).Prune(0.8);
        long total = result.Sum(r => r.Elements);
        Assert.Equal(total - (long)Math.Round(0.8 * total, MidpointRounding.ToEven), result.Sum(r => r.Kept));
        var density = result.ToDictionary(r => r.Name, r => 1 - r.Sparsity);
        Assert.All(result, r => Assert.Equal(r.TargetSparsity, r.Sparsity, 12));
        Assert.True(density["conv1.weight"] > density["conv2.weight"]);

        // The raw ERK densities: proportional to (Σ dims)/(Π dims), capped at 1 with the total preserved.
        var shapes = new List<long[]> { new long[] { 100, 100 }, new long[] { 2, 2 }, new long[] { 50, 10, 3, 3 } };
        var d = ErkAllocation.Densities(shapes, 0.9);
        Assert.Equal(1.0, d[1]);
        double kept = d[0] * 10000 + d[1] * 4 + d[2] * 4500;
        Assert.Equal(0.1 * 14504, kept, 6);
        Assert.Equal((200.0 / 10000) / (66.0 / 4500), d[0] / d[2], 9);
    }

    [Fact]
    public void Bad_arguments_give_clear_errors()
    {
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        var pruner = new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity());
        Assert.Throws<ArgumentOutOfRangeException>(() => pruner.Prune(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => pruner.Prune(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => pruner.Prune(double.NaN));
        var unknown = new PruningScope { Overrides = new Dictionary<string, double> { ["fc7.weight"] = 0.5 } };
        Assert.Contains("'fc7.weight'", Assert.Throws<PruningException>(() =>
            new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), unknown).Prune(0.5)).Message);
        var nothing = new PruningScope { Include = new[] { "nope*" } };
        Assert.Contains("no parameter", Assert.Throws<PruningException>(() =>
            new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), nothing).Prune(0.5)).Message);
        Assert.Contains("5 must divide 12", Assert.Throws<PruningException>(() =>
            new Pruner(masks, new MagnitudeCriterion(), new BlockGranularity(1, 5)).Prune(0.5)).Message);
        Assert.Contains("kernel", Assert.Throws<PruningException>(() =>
            new Pruner(masks, new MagnitudeCriterion(), new KernelGranularity()).Prune(0.5)).Message);
        // Nothing was changed by the failed calls.
        Assert.Empty(masks.Names);
    }
}
