using PruneSharp.Data;
using PruneSharp.Models;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Structured;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

public class DataDrivenCriteriaTests
{
    sealed class Fixed(Tensor inputs, Tensor targets) : IDataset
    {
        public int Count => (int)inputs.shape[0];
        public Batch GetBatch(IReadOnlyList<int> indices, DataRandom? random = null)
        {
            var index = tensor(indices.Select(i => (long)i).ToArray());
            return new Batch(inputs.index_select(0, index), targets.index_select(0, index));
        }
    }

    [Fact]
    public void Loss_change_equals_the_loss_change_of_zeroing_the_units_weights_directly()
    {
        using var model = TestModels.Mlp(4);
        manual_seed(5);
        var batch = new Batch(randn(16, 12), randint(0, 4, 16));
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var context = new LossChangeCriterion().Observe(model, new[] { batch }, new[] { "fc1.weight", "fc2.weight" });
        foreach (var (name, p) in model.named_parameters()) Assert.True(TestModels.Same(p.detach(), before[name]), $"{name} restored");
        var w = model.named_parameters().First(p => p.name == "fc2.weight").parameter;
        var scores = new LossChangeCriterion().Score("fc2.weight", w, context);
        using (no_grad())
        {
            double baseline = nn.functional.cross_entropy(model.call(batch.Inputs), batch.Targets).item<float>();
            for (int unit = 0; unit < 8; unit++)
            {
                w[unit] = zeros(16);
                double changed = nn.functional.cross_entropy(model.call(batch.Inputs), batch.Targets).item<float>() - baseline;
                w.copy_(before["fc2.weight"]);
                Assert.Equal(changed, scores[unit, 0].item<float>(), 5);
                Assert.True(scores[unit].eq(scores[unit, 0]).all().item<bool>(), "one score per unit");
            }
        }
        var capped = Assert.Throws<PruningException>(() => new LossChangeCriterion(maxUnits: 10).Observe(model, new[] { batch }, new[] { "fc1.weight" }));
        Assert.Contains("16 output units", capped.Message);
    }

    [Fact]
    public void Movement_accumulates_minus_w_times_g_over_the_fine_tuning_steps()
    {
        using var model = TestModels.Mlp(7);
        manual_seed(8);
        var data = new Fixed(randn(8, 12), randint(0, 4, 8));
        const double rate = 0.1;
        var w0 = model.named_parameters().First(p => p.name == "fc1.weight").parameter.detach().clone();
        var movement = new MovementCriterion();
        Assert.Throws<PruningException>(() => movement.Score("fc1.weight", w0, ScoringContext.None));
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 1, BatchSize = 8, Shuffle = false, Optimizer = new OptimizerSettings(OptimizerKind.Sgd, 0), Schedule = new ConstantSchedule(rate),
        });
        trainer.Callbacks.Add(movement);
        trainer.Fit(data);
        var w1 = model.named_parameters().First(p => p.name == "fc1.weight").parameter.detach();
        // Plain SGD: w1 = w0 − lr·g, so −w0·g = w0 ⊙ (w1 − w0) / lr.
        var expected = w0 * (w1 - w0) / rate;
        Assert.Equal(1, movement.Steps);
        Assert.True(movement.Score("fc1.weight", w1, ScoringContext.None).allclose(expected, rtol: 1e-3, atol: 1e-6));
    }

    [Fact]
    public void APoZ_and_entropy_give_each_neuron_score_to_its_weights_and_refuse_the_classifier()
    {
        using var model = ModelZoo.CreateClassifier("lenet-300-100", new ClassifierOptions(Seed: 3));
        manual_seed(4);
        var batches = new[] { new Batch(rand(32, 1, 28, 28), randint(0, 10, 32)) };
        var layers = LayerWeights.Of(model);
        var names = model.named_parameters().Select(p => p.name).Where(n => layers.Of(n).Kind == WeightKind.Layer).ToList();
        var apoz = ChannelActivationCriterion.Apoz();
        var context = apoz.Observe(model, batches, names);
        var graph = DependencyGraph.Build(model, new[] { batches[0].Inputs });
        var reference = new ApozImportance();
        reference.Observe(graph, batches.Select(b => (IReadOnlyList<Tensor>)new[] { b.Inputs }));
        var group = graph.Groups.First(g => g.Members.Any(m => m.Role == PruneSharp.Ops.WeightRole.Produces && m.Weight == names[0]));
        var member = group.Members.First(m => m.Role == PruneSharp.Ops.WeightRole.Produces && m.Weight == names[0]);
        var expected = reference.Score(group, model).to(ScalarType.Float32);
        var score = apoz.Score(names[0], model.Weights()[names[0]], context).movedim(new long[] { member.Axis }, new long[] { 0 }).reshape(expected.shape[0], -1);
        Assert.True(score.eq(expected.unsqueeze(1)).all().item<bool>());
        var classifier = Assert.Throws<PruningException>(() => apoz.Score(names[^1], model.Weights()[names[^1]], context));
        Assert.Contains("--exclude", classifier.Message);

        var entropy = ChannelActivationCriterion.Entropy();
        var entropyContext = entropy.Observe(model, batches, names);
        var e = entropy.Score(names[0], model.Weights()[names[0]], entropyContext);
        Assert.True(e.min().item<float>() >= 0 && e.max().item<float>() <= Math.Log(16) + 1e-5);
    }

    [Fact]
    public void Entropy_of_bins_follows_the_definition()
    {
        var values = tensor(new double[] { 0, 0, 1, 1, 3, 3, 3, 3, 0, 1, 2, 3 }, new long[] { 3, 4 });
        var entropy = EntropyImportance.Entropy(values, 4);
        Assert.Equal(Math.Log(2), entropy[0].item<double>(), 9);
        Assert.Equal(0, entropy[1].item<double>(), 9);
        Assert.Equal(Math.Log(4), entropy[2].item<double>(), 9);
    }
}
