using PruneSharp.Pruning.Regularization;
using PruneSharp.Tests.Support;
using PruneSharp.Tests.Training;
using PruneSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.DuringTraining;

[Collection(SerialCollection.Name)]
public class RegularizationTests
{
    /// <summary>conv (1→4, 3x3) → BN → ReLU → pool → fc (4→3), for 1x4x4 images.</summary>
    internal static nn.Module<Tensor, Tensor> SmallCnn(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("conv", nn.Conv2d(1, 4, 3, padding: 1)), ("bn", nn.BatchNorm2d(4)), ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(4, 3)));
    }

    static Dictionary<string, Tensor> Gradients(SparsityPenalty penalty, Func<Tensor> value)
    {
        foreach (var (_, p) in penalty.Targets) p.grad = null;
        value().backward();
        var result = penalty.Targets.ToDictionary(t => t.Name, t => t.Parameter.grad!.clone());
        foreach (var (_, p) in penalty.Targets) p.grad = null;
        return result;
    }

    [Theory]
    [InlineData(PenaltyKind.L1, LassoGroup.Filter)]
    [InlineData(PenaltyKind.GroupLasso, LassoGroup.Filter)]
    [InlineData(PenaltyKind.GroupLasso, LassoGroup.Channel)]
    [InlineData(PenaltyKind.BatchNormScale, LassoGroup.Filter)]
    public void The_added_gradient_is_autograd_of_the_written_penalty(PenaltyKind kind, LassoGroup group)
    {
        using var model = SmallCnn(3);
        using (no_grad())
            foreach (var (_, p) in model.named_parameters()) p.copy_(randn(p.shape) * 0.5);
        var penalty = SparsityPenalty.For(model, kind, group);
        Assert.Equal(kind == PenaltyKind.BatchNormScale ? new[] { "bn.weight" } : new[] { "conv.weight", "fc.weight" },
            penalty.Targets.Select(t => t.Name).ToArray());
        const double lambda = 0.37;
        var expected = Gradients(penalty, () => penalty.Value() * lambda);
        foreach (var (_, p) in penalty.Targets) p.grad = null;
        penalty.AddGradient(lambda);
        foreach (var (name, parameter) in penalty.Targets)
            Assert.True(parameter.grad!.allclose(expected[name], rtol: 1e-5, atol: 1e-6), $"{name}: {(parameter.grad! - expected[name]).abs().max().item<float>()}");
    }

    [Fact]
    public void Group_lasso_value_is_the_sum_of_group_norms_and_a_zero_group_gets_no_gradient()
    {
        using var model = SmallCnn(5);
        var penalty = (GroupLassoPenalty)SparsityPenalty.For(model, PenaltyKind.GroupLasso, LassoGroup.Filter);
        var conv = penalty.Targets[0].Parameter;
        using (no_grad()) conv[1].zero_();
        // The written formula, naively: per filter the square root of the sum of squares.
        double naive = 0;
        foreach (var (_, p) in penalty.Targets)
            for (long g = 0; g < p.shape[0]; g++) naive += Math.Sqrt(p[g].detach().to(float64).pow(2).sum().item<double>());
        Assert.Equal(naive, penalty.Value().item<float>(), 4);
        penalty.AddGradient(1);
        Assert.Equal(0, conv.grad![1].abs().sum().item<float>());
        Assert.True(conv.grad[0].abs().sum().item<float>() > 0);
        // Existing gradients are added to, not replaced.
        var before = conv.grad.clone();
        penalty.AddGradient(1);
        Assert.True(conv.grad.allclose(before * 2));
    }

    [Fact]
    public void The_penalty_warms_up_linearly_then_stays()
    {
        var schedule = new PenaltySchedule(2.0, WarmupSteps: 4);
        Assert.Equal(new[] { 0.5, 1.0, 1.5, 2.0, 2.0 }, Enumerable.Range(0, 5).Select(s => schedule.At(s)).ToArray());
        Assert.Equal(2.0, new PenaltySchedule(2.0).At(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PenaltySchedule(-1).At(0));
    }

    static double TrainedScaleSum(double lambda)
    {
        using var model = SmallCnn(7);
        var options = new TrainerOptions
        {
            Epochs = 4, BatchSize = 16, Seed = 2,
            Optimizer = new OptimizerSettings(OptimizerKind.Sgd, Momentum: 0.9),
            Schedule = new ConstantSchedule(0.05),
        };
        using var trainer = new Trainer(model, options);
        trainer.Callbacks.Add(new SparseRegularization(SparsityPenalty.For(model, PenaltyKind.BatchNormScale), new PenaltySchedule(lambda)));
        trainer.Fit(TinyModels.Columns(96, seed: 3));
        return model.named_parameters().Single(p => p.name == "bn.weight").parameter.detach().abs().sum().item<float>();
    }

    [Fact]
    public void Network_slimming_drives_the_batchnorm_scales_towards_zero()
    {
        double plain = TrainedScaleSum(0), slimmed = TrainedScaleSum(0.2);
        Assert.True(slimmed < 0.5 * plain, $"Σ|γ| with the penalty {slimmed}, without {plain}");
    }

    [Fact]
    public void Network_slimming_refuses_a_model_without_batchnorm()
    {
        using var model = TinyModels.Mlp(1);
        var error = Assert.Throws<PruneSharp.Pruning.PruningException>(() => SparsityPenalty.For(model, PenaltyKind.BatchNormScale));
        Assert.Contains("BatchNorm", error.Message);
    }
}
