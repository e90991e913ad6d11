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
}
