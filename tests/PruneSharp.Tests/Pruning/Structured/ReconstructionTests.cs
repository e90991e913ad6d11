using PruneSharp.Models;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

public class ReconstructionTests
{
    [Fact]
    public void Removed_neurons_that_duplicate_kept_ones_are_recovered_exactly()
    {
        using var model = ModelZoo.CreateClassifier("lenet-300-100", new ClassifierOptions(1, 28, 10, Seed: 9));
        using (no_grad())
        {
            // fc1 neurons 150..299 repeat neurons 0..149, so fc2 can absorb them once they are gone.
            var w = model.get_parameter("fc1.weight")!; var b = model.get_parameter("fc1.bias")!;
            w[TensorIndex.Slice(150, 300)] = w[TensorIndex.Slice(0, 150)].clone();
            b[TensorIndex.Slice(150, 300)] = b[TensorIndex.Slice(0, 150)].clone();
        }
        model.eval();
        using var generator = new Generator(2);
        var calibration = randn(new long[] { 512, 1, 28, 28 }, generator: generator);
        var heldOut = randn(new long[] { 64, 1, 28, 28 }, generator: generator);
        var dependencies = DependencyGraph.Build(model, new[] { heldOut[..2] });
        var fc1 = dependencies.Groups.Single(g => g.Producers.Contains("fc1"));
        var removed = new Dictionary<int, int[]> { [fc1.Id] = Enumerable.Range(150, 150).ToArray() };
        using var pruned = Surgery.Apply(dependencies, removed);
        pruned.eval();

        using var _ = no_grad();
        var reference = model.call(heldOut);
        double before = (pruned.call(heldOut) - reference).abs().max().item<float>();
        Assert.Equal(new[] { "fc2" }, Reconstruction.Refit(model, pruned, dependencies, removed, new[] { calibration }, ridge: 1e-9));
        double after = (pruned.call(heldOut) - reference).abs().max().item<float>();
        Assert.True(before > 1e-2, $"pruning alone should change the outputs (max difference {before})");
        Assert.True(after < 1e-4, $"max difference after refitting: {after}");
    }

    [Fact]
    public void Refitting_convolutions_lowers_the_error_on_the_calibration_data()
    {
        using var model = ModelZoo.CreateClassifier("resnet-20", new ClassifierOptions(1, 28, 10, Seed: 9));
        DependencyGraphTests.RandomiseBatchNorm(model);
        model.eval();
        using var generator = new Generator(3);
        var calibration = randn(new long[] { 16, 1, 28, 28 }, generator: generator);
        var dependencies = DependencyGraph.Build(model, new[] { calibration[..2] });
        var removed = ChannelSelection.Select(dependencies, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.3 });
        using var pruned = Surgery.Apply(dependencies, removed);
        pruned.eval();
        using var _ = no_grad();
        var reference = model.call(calibration);
        double before = (pruned.call(calibration) - reference).pow(2).mean().item<float>();
        Assert.NotEmpty(Reconstruction.Refit(model, pruned, dependencies, removed, new[] { calibration }));
        double after = (pruned.call(calibration) - reference).pow(2).mean().item<float>();
        Assert.True(after < before, $"mean squared error {before} -> {after}");
    }
}
