using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Tests.Support;
using PruneSharp.Tests.Training;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Methods;

[Collection(SerialCollection.Name)]
public class PruneFineTuneTests
{
    static TrainerOptions FineTune(OptimizerKind kind) => new()
    {
        Epochs = 2, BatchSize = 16, Seed = 3,
        Optimizer = new OptimizerSettings(kind, Momentum: kind == OptimizerKind.Sgd ? 0.9 : 0, WeightDecay: 1e-2),
        Schedule = new ConstantSchedule(kind == OptimizerKind.Sgd ? 0.1 : 0.01),
    };

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.AdamW)]
    public void Masks_stay_applied_through_fine_tuning_while_survivors_train(OptimizerKind kind)
    {
        using var model = TinyModels.Mlp(seed: 5, dropout: 0);
        var data = TinyModels.Columns(96, seed: 7);
        using var masks = new MaskSet(model);
        var pruner = new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), new PruningScope { Allocation = Allocation.Global });
        pruner.Prune(0.7);
        using var afterPruning = WeightSnapshot.Capture(model);

        var result = PruneFineTune.FineTune(model, masks, FineTune(kind), data);

        Assert.Equal(2, result.Epochs.Count);
        foreach (string name in masks.Names)
        {
            var weight = masks.Parameter(name);
            var pruned = masks.Mask(name).logical_not();
            Assert.True(pruned.any().item<bool>());
            Assert.Equal(0, weight.masked_select(pruned).abs().sum().item<float>());
            Assert.False(TestModels.Same(weight.masked_select(pruned.logical_not()), afterPruning[name].masked_select(pruned.logical_not())),
                $"survivors of {name} did not train");
        }
    }

    [Fact]
    public void Iterative_rounds_only_remove_survivors_and_reach_the_target()
    {
        using var model = TinyModels.Mlp(seed: 6, dropout: 0);
        var data = TinyModels.Columns(64, seed: 8);
        using var masks = new MaskSet(model);
        var pruner = new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), new PruningScope { Allocation = Allocation.Global });
        var history = new List<Dictionary<string, Tensor>>();
        var rounds = PruneFineTune.Run(pruner, new PruneFineTuneOptions { Sparsity = 0.875, Rounds = 3, FineTune = FineTune(OptimizerKind.Sgd) with { Epochs = 1 } },
            data, data);

        Assert.Equal(3, rounds.Count);
        Assert.Equal(new[] { 0.5, 0.75, 0.875 }, rounds.Select(r => Math.Round(r.TargetSparsity, 6)));
        long total = rounds[^1].Layers.Sum(l => l.Elements);
        Assert.Equal(total - (long)Math.Round(0.875 * total, MidpointRounding.ToEven), rounds[^1].Layers.Sum(l => l.Kept));
        for (int i = 1; i < rounds.Count; i++) Assert.True(rounds[i].Sparsity > rounds[i - 1].Sparsity);
        Assert.All(rounds, r => Assert.NotNull(r.AfterFineTune));
        // After the last round's fine-tune the weights still carry exactly the final masks' zeros.
        foreach (string name in masks.Names)
            Assert.Equal(masks.Kept(name), masks.Parameter(name).count_nonzero().item<long>());
    }
}
