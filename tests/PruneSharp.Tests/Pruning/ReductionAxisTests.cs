using PruneSharp.Graph;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Tests.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

/// <summary>N:M along the axis each layer sums over, and the defaults of what is pruned.</summary>
public class ReductionAxisTests
{
    /// <summary>The weights of <see cref="UserModel"/> and the axis each one's layer sums over.</summary>
    public static TheoryData<string, int> Reductions => new()
    {
        { "conv2.weight", 1 }, // Conv [out, in, kh, kw]
        { "fc1.weight", 1 },   // Gemm transB=1 [out, in]
        { "fc2.weight", 0 },   // Gemm transB=0 [in, out]
        { "fc3.weight", 0 },   // MatMul [in, out]
        { "head.weight", 1 },  // Gemm transB=1
    };

    [Theory]
    [MemberData(nameof(Reductions))]
    public void NM_keeps_exactly_2_of_every_4_along_the_reduction_axis_with_the_largest_magnitudes(string name, int reduction)
    {
        using var model = new GraphModule(UserModel.Build());
        using var masks = new MaskSet(model);
        var original = masks.Parameter(name).detach().clone();
        new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(2, 4)).Prune(0.5);

        // Naive reference: walk every group of 4 consecutive entries along the reduction axis.
        var weight = original.movedim(new long[] { reduction }, new long[] { -1 }).contiguous();
        var keep = masks.Mask(name).movedim(new long[] { reduction }, new long[] { -1 }).contiguous();
        long length = weight.shape[^1];
        var w = TestModels.Values(weight.abs());
        var k = keep.reshape(-1).data<bool>().ToArray();
        for (long start = 0; start < w.Length; start += 4)
        {
            Assert.Equal(0, start % length % 4);
            var group = Enumerable.Range((int)start, 4).ToArray();
            Assert.Equal(2, group.Count(i => k[i]));
            Assert.True(group.Where(i => k[i]).Min(i => w[i]) >= group.Where(i => !k[i]).Max(i => w[i]));
        }
    }

    [Fact]
    public void A_layer_whose_reduction_size_M_does_not_divide_is_skipped_with_the_reason()
    {
        using var model = new GraphModule(UserModel.Build());
        using var masks = new MaskSet(model);
        var original = masks.Parameter("conv1.weight").detach().clone();
        var result = new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(2, 4)).Prune(0.5);
        var conv1 = result.Single(r => r.Name == "conv1.weight");
        Assert.Contains("M=4 does not divide the reduction size of 'conv1.weight' (1", conv1.Skipped);
        Assert.True(TestModels.Same(original, masks.Parameter("conv1.weight")));
        Assert.All(result.Where(r => r.Name != "conv1.weight"), r => Assert.Null(r.Skipped));
    }

    [Fact]
    public void Strict_refuses_a_layer_it_cannot_split_and_names_the_exclusion()
    {
        using var model = new GraphModule(UserModel.Build());
        using var masks = new MaskSet(model);
        var pruner = new Pruner(masks, new MagnitudeCriterion(), new NMGranularity(2, 4), new PruningScope { Strict = true });
        var error = Assert.Throws<PruningException>(() => pruner.Prune(0.5));
        Assert.Contains("--exclude conv1.weight", error.Message);
    }

    [Fact]
    public void Only_layer_weights_are_prunable_by_default_and_first_and_last_can_be_kept()
    {
        using var model = new GraphModule(UserModel.Build());
        using var masks = new MaskSet(model);
        var all = new PruningScope().Choose(masks);
        Assert.Equal(new[] { "conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight", "head.weight" }, all.Prunable.Order(StringComparer.Ordinal));
        Assert.Contains(all.LeftOut, l => l.Name == "mean" && l.Reason.Contains("not a layer's weight"));
        var inner = new PruningScope { KeepFirstAndLast = true }.Choose(masks);
        Assert.DoesNotContain("conv1.weight", inner.Prunable);
        Assert.DoesNotContain("head.weight", inner.Prunable);
        Assert.Contains(inner.LeftOut, l => l.Name == "conv1.weight" && l.Reason.StartsWith("first layer", StringComparison.Ordinal));
        Assert.Contains(inner.LeftOut, l => l.Name == "head.weight" && l.Reason.StartsWith("last layer", StringComparison.Ordinal));
    }

    [Fact]
    public void Embedding_tables_are_pruned_only_on_request()
    {
        var b = new GraphBuilder("lm", 3);
        var ids = b.Int64Input("ids", null, 5);
        b.Output(b.Linear(b.Embedding(ids, 10, 8, "wte"), 10, "lm_head"), "logits");
        using var model = b.Build();
        using var masks = new MaskSet(model);
        var byDefault = new PruningScope().Choose(masks);
        Assert.Equal(new[] { "lm_head.weight" }, byDefault.Prunable);
        Assert.Contains(byDefault.LeftOut, l => l.Name == "wte.weight" && l.Reason.Contains("embedding"));
        Assert.Contains("wte.weight", new PruningScope { IncludeEmbeddings = true }.Select(masks));
        Assert.Contains("wte.weight", new PruningScope { Include = ["wte.*"] }.Select(masks));
    }

    [Fact]
    public void First_and_last_default_keeps_them_for_NM_and_high_sparsity()
    {
        Assert.True(PruningScope.FirstAndLastDefault(new NMGranularity(2, 4), 0.5));
        Assert.True(PruningScope.FirstAndLastDefault(new ElementGranularity(), 0.9));
        Assert.False(PruningScope.FirstAndLastDefault(new ElementGranularity(), 0.5));
    }
}
