using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.DynamicSparsity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Tests.Support;
using PruneSharp.Tests.Training;
using PruneSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.DuringTraining;

[Collection(SerialCollection.Name)]
public class DynamicSparseTrainingTests
{
    static readonly string[] Layers = { "fc1.weight", "fc2.weight" };

    /// <summary>Checks, after every optimizer step, what dynamic sparse training promises.</summary>
    sealed class Probe(DynamicSparseTraining dst) : ITrainingCallback
    {
        public Dictionary<string, long> Active { get; } = Layers.ToDictionary(n => n, dst.Masks.Kept);
        public int Updates { get; private set; }
        public long Grown { get; private set; }
        public List<string> Failures { get; } = new();

        public void OnAfterOptimizerStep(TrainingContext context)
        {
            foreach (string name in Layers)
            {
                var weight = dst.Masks.Parameter(name).detach();
                if (weight.count_nonzero().item<long>() > Active[name]) Failures.Add($"step {context.Position.Step}: {name} has more non-zeros than active weights");
                if (dst.Masks.Kept(name) != Active[name]) Failures.Add($"step {context.Position.Step}: {name} has {dst.Masks.Kept(name)} active, expected {Active[name]}");
            }
            if (dst.Updates == Updates) return;
            Updates = dst.Updates;
            foreach (var (name, grown) in dst.LastNew)
            {
                Grown += grown.count_nonzero().item<long>();
                var parameter = dst.Masks.Parameter(name);
                if (parameter.detach().masked_select(grown).abs().sum().item<float>() != 0) Failures.Add($"step {context.Position.Step}: grown weights of {name} are not zero");
                var moments = OptimizerMoments.Of(context.Optimizer, parameter);
                if (moments.Count == 0) Failures.Add($"step {context.Position.Step}: no optimizer state found for {name}");
                foreach (var moment in moments)
                    if (moment.masked_select(grown).abs().sum().item<float>() != 0) Failures.Add($"step {context.Position.Step}: optimizer state of grown {name} not reset");
            }
        }
    }

    [Theory]
    [InlineData(RegrowthRule.Gradient, OptimizerKind.Sgd)]
    [InlineData(RegrowthRule.Random, OptimizerKind.Sgd)]
    [InlineData(RegrowthRule.Gradient, OptimizerKind.Adam)]
    public void The_active_count_stays_constant_and_grown_weights_start_at_zero_with_fresh_optimizer_state(RegrowthRule rule, OptimizerKind optimizer)
    {
        using var model = TinyModels.Mlp(3, dropout: 0);
        using var masks = new MaskSet(model);
        var options = new TrainerOptions
        {
            Epochs = 4, BatchSize = 16, Seed = 1,
            Optimizer = new OptimizerSettings(optimizer, Momentum: optimizer == OptimizerKind.Sgd ? 0.9 : 0),
            Schedule = new ConstantSchedule(optimizer == OptimizerKind.Sgd ? 0.1 : 0.01),
        };
        var data = TinyModels.Columns(96, seed: 2);
        using var dst = new DynamicSparseTraining(masks, Layers, new DynamicSparsityOptions
        {
            Regrowth = rule, Sparsity = 0.7, UpdateEvery = 2, DropFraction = 0.5, TotalSteps = 24, Seed = 5,
        });
        long total = Layers.Sum(n => masks.Parameter(n).numel());
        Assert.Equal(0.7, 1 - Layers.Sum(masks.Kept) / (double)total, 2);
        var probe = new Probe(dst);
        using var trainer = new Trainer(model, options);
        trainer.Callbacks.Add(dst);
        trainer.Callbacks.Add(probe);
        trainer.Fit(data);
        Assert.Empty(probe.Failures);
        // Updates after steps 2, 4, ..., 16 (the last before 75% of 24 steps), each growing some connections.
        Assert.Equal(8, dst.Updates);
        Assert.True(probe.Grown > 0);
        Assert.True(Evaluator.Classify(model, data).Top1 > 0.5);
    }

    /// <summary>A 4x5 linear layer whose active weights (mask) and magnitudes are set by hand.</summary>
    static (Sequential Model, MaskSet Masks, DynamicSparseTraining Dst) Controlled(RegrowthRule rule, long seed = 0)
    {
        manual_seed(0);
        var model = nn.Sequential(("fc", nn.Linear(5, 4, hasBias: false)));
        var masks = new MaskSet(model);
        var dst = new DynamicSparseTraining(masks, new[] { "fc.weight" }, new DynamicSparsityOptions
        {
            Regrowth = rule, Sparsity = 0.5, UpdateEvery = 1, DropFraction = 0.4, EndFraction = 1, TotalSteps = 1_000_000, Seed = seed,
        });
        // Active: the first 10 positions, magnitudes 1..10; inactive: the last 10 (zero).
        var keep = arange(20).lt(10).reshape(4, 5);
        masks.LoadStateDict(new Dictionary<string, Tensor> { ["fc.weight"] = keep });
        using (no_grad()) masks.Parameter("fc.weight").copy_((arange(20, dtype: float32) + 1).reshape(4, 5) * keep);
        return (model, masks, dst);
    }

    [Fact]
    public void Set_drops_the_smallest_active_weights_and_grows_only_among_the_inactive()
    {
        for (long seed = 0; seed < 6; seed++)
        {
            var (model, masks, dst) = Controlled(RegrowthRule.Random, seed);
            var change = Assert.Single(dst.Update(step: 1, optimizer: null));
            // f(1) ≈ 0.4 of 10 active: 4 dropped (magnitudes 1-4), 4 grown among positions 0-3 and 10-19.
            Assert.Equal((10L, 4L, 4L), (change.Active, change.Dropped, change.Grown));
            var mask = masks.Mask("fc.weight").flatten();
            var active = Enumerable.Range(0, 20).Where(i => mask[i].item<bool>()).ToList();
            Assert.Equal(10, active.Count);
            Assert.True(Enumerable.Range(4, 6).All(active.Contains), $"seed {seed}: a survivor of the drop was lost: {string.Join(",", active)}");
            var grown = dst.LastGrown["fc.weight"].flatten();
            var fresh = dst.LastNew["fc.weight"].flatten();
            Assert.All(Enumerable.Range(4, 6), i => Assert.False(grown[i].item<bool>()));
            // New connections (10-19) start at zero; a dropped one grown back (0-3) keeps its weight i + 1.
            var weight = masks.Parameter("fc.weight").detach().flatten();
            Assert.Equal(0, weight.masked_select(fresh).abs().sum().item<float>());
            for (int i = 0; i < 20; i++)
                Assert.Equal(grown[i].item<bool>() && i >= 10, fresh[i].item<bool>());
            for (int i = 0; i < 4; i++)
                if (grown[i].item<bool>()) Assert.Equal(i + 1, weight[i].item<float>());
            Assert.Equal(change.New, fresh.count_nonzero().item<long>());
            dst.Dispose();
            masks.Dispose();
            model.Dispose();
        }
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Adam)]
    public void Rigl_grows_the_largest_gradients_and_resets_their_optimizer_state(OptimizerKind kind)
    {
        var (model, masks, dst) = Controlled(RegrowthRule.Gradient);
        var parameter = masks.Parameter("fc.weight");
        using var optimizer = new OptimizerSettings(kind, Momentum: kind == OptimizerKind.Sgd ? 0.9 : 0).Create(new[] { parameter }, 0.1);
        // One step with an all-ones gradient gives every weight non-zero optimizer state.
        parameter.grad = ones_like(parameter);
        optimizer.step();
        using (no_grad()) parameter.copy_((arange(20, dtype: float32) + 1).reshape(4, 5) * masks.Mask("fc.weight"));
        Assert.All(OptimizerMoments.Of(optimizer, parameter), m => Assert.Equal(20, m.count_nonzero().item<long>()));
        Assert.NotEmpty(OptimizerMoments.Of(optimizer, parameter));
        // The largest dense gradients sit at inactive positions 17, 12, 19, 15 (and at active 9, which must not count).
        var gradient = zeros(20);
        gradient[9] = 100; gradient[17] = 50; gradient[12] = -40; gradient[19] = 30; gradient[15] = 20; gradient[11] = 1;
        dst.Update(step: 1, optimizer, new Dictionary<string, Tensor> { ["fc.weight"] = gradient.reshape(4, 5) });
        var grown = dst.LastGrown["fc.weight"].flatten();
        Assert.Equal(new long[] { 12, 15, 17, 19 }, Enumerable.Range(0, 20).Where(i => grown[i].item<bool>()).Select(i => (long)i).ToArray());
        Assert.Equal(10, masks.Kept("fc.weight"));
        foreach (var moment in OptimizerMoments.Of(optimizer, parameter))
        {
            Assert.Equal(0, moment.flatten().masked_select(grown).abs().sum().item<float>());
            Assert.Equal(16, moment.count_nonzero().item<long>());
        }
        dst.Dispose();
        masks.Dispose();
        model.Dispose();
    }

    [Fact]
    public void A_connection_dropped_and_grown_back_in_the_same_update_keeps_its_weight_and_optimizer_state()
    {
        var (model, masks, dst) = Controlled(RegrowthRule.Gradient);
        var parameter = masks.Parameter("fc.weight");
        using var optimizer = new OptimizerSettings(OptimizerKind.Sgd, Momentum: 0.9).Create(new[] { parameter }, 0.1);
        parameter.grad = ones_like(parameter);
        optimizer.step();
        using (no_grad()) parameter.copy_((arange(20, dtype: float32) + 1).reshape(4, 5) * masks.Mask("fc.weight"));
        // Position 0 (magnitude 1) is dropped, but its gradient is the largest: it comes back with 17, 12 and 19.
        var gradient = zeros(20);
        gradient[0] = 100; gradient[17] = 50; gradient[12] = -40; gradient[19] = 30; gradient[15] = 20;
        var change = Assert.Single(dst.Update(step: 1, optimizer, new Dictionary<string, Tensor> { ["fc.weight"] = gradient.reshape(4, 5) }));
        Assert.Equal((4L, 4L, 3L), (change.Dropped, change.Grown, change.New));
        static long[] Where(Tensor t) { var f = t.flatten(); return Enumerable.Range(0, 20).Where(i => f[i].item<bool>()).Select(i => (long)i).ToArray(); }
        Assert.Equal(new long[] { 0, 12, 17, 19 }, Where(dst.LastGrown["fc.weight"]));
        Assert.Equal(new long[] { 12, 17, 19 }, Where(dst.LastNew["fc.weight"]));
        Assert.Equal(new long[] { 0, 4, 5, 6, 7, 8, 9, 12, 17, 19 }, Where(masks.Mask("fc.weight")));
        Assert.Equal(1f, parameter.detach().flatten()[0].item<float>());
        foreach (var moment in OptimizerMoments.Of(optimizer, parameter))
        {
            Assert.NotEqual(0f, moment.flatten()[0].item<float>());
            Assert.Equal(0, moment.flatten().masked_select(dst.LastNew["fc.weight"].flatten()).abs().sum().item<float>());
        }
        dst.Dispose();
        masks.Dispose();
        model.Dispose();
    }

    [Fact]
    public void The_drop_fraction_decays_by_a_cosine_to_zero_at_the_end_fraction()
    {
        var options = new DynamicSparsityOptions { DropFraction = 0.3, TotalSteps = 1000, UpdateEvery = 100 };
        Assert.Equal(0.3, options.DropFractionAt(0), 12);
        Assert.Equal(0.15, options.DropFractionAt(375), 12);
        Assert.Equal(0, options.DropFractionAt(750));
        Assert.Equal(new long[] { 100, 200, 300, 400, 500, 600, 700 }, Enumerable.Range(1, 1000).Where(s => options.IsUpdateStep(s)).Select(s => (long)s).ToArray());
    }

    [Fact]
    public void The_initial_topology_follows_erk()
    {
        using var model = TinyModels.Mlp(3, dropout: 0);
        using var masks = new MaskSet(model);
        using var dst = new DynamicSparseTraining(masks, Layers, new DynamicSparsityOptions { Sparsity = 0.8, TotalSteps = 10 });
        var expected = ErkAllocation.Densities(Layers.Select(n => masks.Parameter(n).shape).ToList(), 0.8);
        for (int i = 0; i < Layers.Length; i++)
            Assert.Equal(Math.Round(expected[i] * masks.Parameter(Layers[i]).numel()), masks.Kept(Layers[i]));
    }

    /// <summary>
    /// At each update step, computes the gradient of the batch loss on a separate copy of the model (weights as in the
    /// forward pass, inactive ones at zero) and checks that RigL grew the inactive connections with its largest magnitudes.
    /// </summary>
    sealed class DenseGradientProbe(DynamicSparseTraining dst) : ITrainingCallback
    {
        readonly Dictionary<string, Tensor> _reference = new();
        public int Checked { get; private set; }
        public int LayersChecked { get; private set; }
        public List<string> Failures { get; } = new();

        public void OnBeforeOptimizerStep(TrainingContext context)
        {
            if (!dst.Options.IsUpdateStep(context.Position.Step + 1)) return;
            using var copy = TinyModels.Mlp(3, dropout: 0);
            copy.load_state_dict(context.Model.state_dict());
            var batch = context.Batch!;
            context.Trainer.Options.Loss(copy.call(batch.Inputs), batch.Targets).backward();
            foreach (var (name, parameter) in copy.named_parameters().Where(p => Layers.Contains(p.name)))
            {
                if (_reference.Remove(name, out var old)) old.Dispose();
                _reference[name] = parameter.grad!.abs().clone().DetachFromDisposeScope();
            }
        }

        public void OnAfterOptimizerStep(TrainingContext context)
        {
            if (dst.Updates == Checked) return;
            Checked = dst.Updates;
            foreach (string name in Layers)
            {
                if (!dst.LastGrown.TryGetValue(name, out var grown)) continue;
                var afterDrop = dst.Masks.Mask(name).logical_and(grown.logical_not());
                var passedOver = afterDrop.logical_not().logical_and(grown.logical_not());
                var reference = _reference[name];
                if (reference.masked_select(afterDrop.logical_not()).max().item<float>() <= 0)
                    Failures.Add($"update {Checked}: {name}: the dense gradient is zero at every inactive weight (nothing to test)");
                if (!grown.any().item<bool>()) continue;
                LayersChecked++;
                float weakestGrown = reference.masked_select(grown).min().item<float>();
                float strongestLeft = reference.masked_select(passedOver).max().item<float>();
                if (weakestGrown < strongestLeft * (1 - 1e-5f))
                    Failures.Add($"update {Checked}: {name}: grew a connection with |g| = {weakestGrown} but left one with {strongestLeft}");
            }
        }
    }

    /// <summary>2 epochs of 96 examples in batches of 16: 12 steps of SGD with momentum.</summary>
    static readonly TrainerOptions TwelveSgdSteps = new()
    {
        Epochs = 2, BatchSize = 16, Seed = 1,
        Optimizer = new OptimizerSettings(OptimizerKind.Sgd, Momentum: 0.9),
        Schedule = new ConstantSchedule(0.1),
    };

    [Fact]
    public void Rigl_grows_by_the_dense_gradient_of_the_batch_loss_at_the_inactive_weights()
    {
        using var model = TinyModels.Mlp(3, dropout: 0);
        using var masks = new MaskSet(model);
        using var dst = new DynamicSparseTraining(masks, Layers, new DynamicSparsityOptions
        {
            Regrowth = RegrowthRule.Gradient, Sparsity = 0.8, UpdateEvery = 2, DropFraction = 0.3, TotalSteps = 12, Seed = 5,
        });
        var probe = new DenseGradientProbe(dst);
        using var trainer = new Trainer(model, TwelveSgdSteps);
        trainer.Callbacks.Add(dst);
        trainer.Callbacks.Add(probe);
        trainer.Fit(TinyModels.Columns(96, seed: 2));
        Assert.Empty(probe.Failures);
        Assert.Equal(4, probe.Checked);
        Assert.True(probe.LayersChecked >= 4, $"only {probe.LayersChecked} layer updates grew connections");
    }

    /// <summary>Snapshots every parameter before each optimizer step and records which steps left them all unchanged.</summary>
    sealed class StepProbe(DynamicSparseTraining dst) : ITrainingCallback
    {
        Dictionary<string, Tensor> _before = new();
        public List<long> Unchanged { get; } = new();

        public void OnBeforeOptimizerStep(TrainingContext context)
        {
            foreach (var t in _before.Values) t.Dispose();
            _before = context.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        }

        public void OnAfterOptimizerStep(TrainingContext context)
        {
            bool same = true;
            foreach (var (name, parameter) in context.Model.named_parameters())
            {
                var now = parameter.detach();
                // A layer under dynamic sparsity may change where the topology did: compare where it did not.
                var where = dst.LastGrown.TryGetValue(name, out var grown)
                    ? dst.Masks.Mask(name).logical_and(grown.logical_not())
                    : ones_like(now, dtype: ScalarType.Bool);
                same &= now.masked_select(where).eq(_before[name].masked_select(where)).all().item<bool>();
            }
            if (same) Unchanged.Add(context.Position.Step);
        }
    }

    [Theory]
    [InlineData(RegrowthRule.Gradient)]
    [InlineData(RegrowthRule.Random)]
    public void A_rigl_update_replaces_the_optimizer_step_and_a_set_update_follows_it(RegrowthRule rule)
    {
        using var model = TinyModels.Mlp(3, dropout: 0);
        using var masks = new MaskSet(model);
        using var dst = new DynamicSparseTraining(masks, Layers, new DynamicSparsityOptions
        {
            Regrowth = rule, Sparsity = 0.8, UpdateEvery = 3, DropFraction = 0.3, TotalSteps = 12, Seed = 5,
        });
        var probe = new StepProbe(dst);
        using var trainer = new Trainer(model, TwelveSgdSteps);
        trainer.Callbacks.Add(dst);
        trainer.Callbacks.Add(probe);
        trainer.Fit(TinyModels.Columns(96, seed: 2));
        Assert.Equal(2, dst.Updates);
        // Updates after steps 3 and 6 (before 75% of 12 steps): RigL leaves every other weight as it was there.
        Assert.Equal(rule == RegrowthRule.Gradient ? new long[] { 3, 6 } : Array.Empty<long>(), probe.Unchanged.ToArray());
    }
}
