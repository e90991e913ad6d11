using PruneSharp.Pruning.SoftPruning;
using PruneSharp.Tests.Support;
using PruneSharp.Tests.Training;
using PruneSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.DuringTraining;

[Collection(SerialCollection.Name)]
public class SoftPruningTests
{
    static TrainerOptions Options(int epochs) => new()
    {
        Epochs = epochs, BatchSize = 16, Seed = 1,
        Optimizer = new OptimizerSettings(OptimizerKind.Sgd, Momentum: 0.9),
        Schedule = new ConstantSchedule(0.1),
    };

    /// <summary>Records each epoch's filter norms before soft filter pruning zeroes (it runs after this callback).</summary>
    sealed class NormsBeforeZeroing(Tensor weight) : ITrainingCallback
    {
        public List<float[]> Norms { get; } = new();

        public void OnEpochEnd(TrainingContext context, EpochSummary summary) =>
            Norms.Add(linalg.vector_norm(weight.detach(), 2, new long[] { 1, 2, 3 }).data<float>().ToArray());
    }

    [Fact]
    public void Zeroed_filters_keep_training_and_the_choice_is_made_again_each_epoch()
    {
        using var model = RegularizationTests.SmallCnn(4);
        var layers = SoftFilterPruning.DefaultLayers(model);
        Assert.Equal(new[] { "conv.weight" }, layers);
        var sfp = new SoftFilterPruning(model, layers, 0.25);
        var conv = sfp.Layers[0].Parameter;
        var probe = new NormsBeforeZeroing(conv);
        using var trainer = new Trainer(model, Options(3));
        trainer.Callbacks.Add(probe);
        trainer.Callbacks.Add(sfp);
        trainer.Fit(TinyModels.Columns(96, seed: 2));
        // After every epoch but the first, the filter zeroed at the previous epoch's end has trained away from zero.
        Assert.Equal(3, probe.Norms.Count);
        var zeroedAfterLast = Assert.Single(sfp.Zeroed["conv.weight"]);
        Assert.Equal(0, conv[zeroedAfterLast].abs().sum().item<float>());
        for (int epoch = 1; epoch < 3; epoch++)
            Assert.True(probe.Norms[epoch].All(n => n > 0), $"epoch {epoch}: a filter stayed at zero: {string.Join(", ", probe.Norms[epoch])}");
        // The trained model keeps the last zeroing: one whole filter is zero.
        Assert.Equal(1, linalg.vector_norm(conv.detach(), 2, new long[] { 1, 2, 3 }).eq(0).sum().item<long>());
    }

    [Fact]
    public void A_soft_pruned_filter_that_grows_comes_back()
    {
        using var model = RegularizationTests.SmallCnn(4);
        var sfp = new SoftFilterPruning(model, new[] { "conv.weight" }, 0.25);
        var conv = sfp.Layers[0].Parameter;
        using (no_grad())
            for (int f = 0; f < 4; f++) conv[f].fill_(f + 1);
        sfp.ZeroWeakest();
        Assert.Equal(new long[] { 0 }, sfp.Zeroed["conv.weight"]);
        Assert.Equal(0, conv[0].abs().sum().item<float>());
        // Training (here by hand) makes filter 0 the strongest: the next zeroing keeps it and takes filter 1.
        using (no_grad()) conv[0].fill_(5);
        sfp.ZeroWeakest();
        Assert.Equal(new long[] { 1 }, sfp.Zeroed["conv.weight"]);
        Assert.Equal(5 * 9, conv[0].sum().item<float>());
    }

    [Fact]
    public void Network_surgery_prunes_below_a_and_splices_back_above_b()
    {
        using var model = TinyModels.Mlp(2, dropout: 0);
        using var surgery = new NetworkSurgery(model, new[] { "fc1.weight" }, 0.5);
        var weight = model.named_parameters().Single(p => p.name == "fc1.weight").parameter;
        Assert.Equal(0.5, surgery.MaskedFraction, 2);
        var (a, b) = surgery.Thresholds("fc1.weight");
        Assert.True(0 < a && a < b);
        using (no_grad()) weight[0, 0] = 0f;
        surgery.Revise();
        Assert.False(surgery.Mask("fc1.weight")[0, 0].item<bool>());
        // Between a and b the mask does not change.
        using (no_grad()) weight[0, 0] = (float)((a + b) / 2);
        surgery.Revise();
        Assert.False(surgery.Mask("fc1.weight")[0, 0].item<bool>());
        using (no_grad()) weight[0, 0] = (float)(3 * b);
        surgery.Revise();
        Assert.True(surgery.Mask("fc1.weight")[0, 0].item<bool>());
    }

    [Fact]
    public void Network_surgery_updates_pruned_weights_and_leaves_the_mask_in_the_trained_weights()
    {
        using var model = TinyModels.Mlp(2, dropout: 0);
        using var surgery = new NetworkSurgery(model, new[] { "fc1.weight" }, 0.6);
        var weight = model.named_parameters().Single(p => p.name == "fc1.weight").parameter;
        var initialMask = surgery.Mask("fc1.weight").clone();
        var before = weight.detach().clone();
        using var trainer = new Trainer(model, Options(2));
        trainer.Callbacks.Add(surgery);
        trainer.Fit(TinyModels.Columns(96, seed: 2));
        var mask = surgery.Mask("fc1.weight");
        // Straight-through: weights pruned from the start still received updates (some were spliced back).
        Assert.True(mask.logical_and(initialMask.logical_not()).any().item<bool>(), "no pruned weight was spliced back");
        // The trained weights are W⊙T: zero exactly where the mask prunes.
        Assert.Equal(0, weight.detach().masked_select(mask.logical_not()).abs().sum().item<float>());
        Assert.False(weight.detach().eq(before).all().item<bool>());
        Assert.InRange(surgery.MaskedFraction, 0.3, 0.9);
    }

    [Fact]
    public void Surgery_probability_decays_as_the_paper_and_the_seeded_draws_follow_it()
    {
        var schedule = new SurgerySchedule { Gamma = 0.01, Power = 1, Seed = 3 };
        Assert.Equal(1, schedule.Probability(0));
        Assert.Equal(1 / 2.0, schedule.Probability(100), 12);
        Assert.Equal(Math.Pow(1 + 0.01 * 300, -2), (schedule with { Power = 2 }).Probability(300), 12);
        // Over 2,000 steps the number of revisions is a sum of independent draws with mean Σσ(t): within 4 standard deviations.
        const int steps = 2000;
        double mean = 0, variance = 0;
        for (long t = 1; t <= steps; t++)
        {
            double p = schedule.Probability(t);
            mean += p;
            variance += p * (1 - p);
        }
        int fired = Enumerable.Range(1, steps).Count(t => schedule.Fires(t));
        Assert.InRange(fired, mean - 4 * Math.Sqrt(variance), mean + 4 * Math.Sqrt(variance));
        // The rate falls: the first 200 steps (σ from 0.99 to 0.33) revise more often than the last 200 (σ about 0.05).
        Assert.True(Enumerable.Range(1, 200).Count(t => schedule.Fires(t)) > 3 * Enumerable.Range(steps - 199, 200).Count(t => schedule.Fires(t)));
        // The same seed draws the same steps (a resumed run), another seed others; γ = 0 fires always; none from the stop step on.
        Assert.Equal(Enumerable.Range(1, 300).Select(t => schedule.Fires(t)), Enumerable.Range(1, 300).Select(t => new SurgerySchedule { Gamma = 0.01, Seed = 3 }.Fires(t)));
        Assert.NotEqual(Enumerable.Range(1, 300).Select(t => schedule.Fires(t)), Enumerable.Range(1, 300).Select(t => (schedule with { Seed = 4 }).Fires(t)));
        Assert.All(Enumerable.Range(1, 300), t => Assert.True(SurgerySchedule.EveryStep.Fires(t)));
        Assert.DoesNotContain(Enumerable.Range(50, 300), t => (schedule with { StopStep = 50 }).Fires(t));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SurgerySchedule { Gamma = -1 }.Validate());
    }

    /// <summary>Records the surgery mask after every optimizer step (it runs after the surgery's callback).</summary>
    sealed class MaskAfterStep(NetworkSurgery surgery, string name) : ITrainingCallback
    {
        public List<(long Step, Tensor Mask)> Masks { get; } = new();

        public void OnAfterOptimizerStep(TrainingContext context) =>
            Masks.Add((context.Position.Step, surgery.Mask(name).clone().DetachFromDisposeScope()));
    }

    [Fact]
    public void Network_surgery_revises_only_at_the_drawn_steps_and_splices_pruned_weights_back()
    {
        using var model = TinyModels.Mlp(2, dropout: 0);
        var schedule = new SurgerySchedule { Gamma = 0.1, Power = 1, Seed = 7 };
        using var surgery = new NetworkSurgery(model, new[] { "fc1.weight" }, 0.6, schedule: schedule);
        var weight = model.named_parameters().Single(p => p.name == "fc1.weight").parameter;
        var initialMask = surgery.Mask("fc1.weight").clone();
        var probe = new MaskAfterStep(surgery, "fc1.weight");
        using var trainer = new Trainer(model, Options(4));
        trainer.Callbacks.Add(surgery);
        trainer.Callbacks.Add(probe);
        trainer.Fit(TinyModels.Columns(96, seed: 2));
        var firing = probe.Masks.Select(m => m.Step).Where(schedule.Fires).ToList();
        Assert.Equal(24, probe.Masks.Count);
        Assert.Equal(firing.Count, surgery.Revisions);
        Assert.InRange(firing.Count, 1, 23);
        // Between drawn steps the mask does not move.
        var previous = initialMask;
        foreach (var (step, mask) in probe.Masks)
        {
            if (!schedule.Fires(step)) Assert.True(mask.eq(previous).all().item<bool>(), $"the mask changed after step {step}, which was not drawn");
            previous = mask;
        }
        // A weight pruned at the start came back, and the trained model keeps its value.
        var spliced = surgery.Mask("fc1.weight").logical_and(initialMask.logical_not());
        Assert.True(spliced.any().item<bool>(), "no pruned weight was spliced back");
        Assert.True(weight.detach().masked_select(spliced).ne(0).all().item<bool>());
        foreach (var (_, mask) in probe.Masks) mask.Dispose();
    }
}
