using PruneSharp.Compression;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Compression;

public class CentroidFineTuningTests
{
    /// <summary>A shared LeNet-300-100 (80% of its weights zero, 3-bit fc clusters) and 64 random images with labels.</summary>
    static SharedModel SharedLeNet(out ImageDataset data)
    {
        using var module = ModelZoo.CreateClassifier("lenet-300-100", new ClassifierOptions(Seed: 4));
        var graph = module.ToGraph();
        var rng = new Generator(2);
        foreach (var (name, _) in DeepCompression.FindLayers(graph).ToList())
            graph.Initializers[name] = graph.Initializers[name].mul(rand(graph.Initializers[name].shape, generator: rng).gt(0.8)).to(ScalarType.Float32);
        var random = new Random(6);
        var pixels = new byte[64 * 28 * 28];
        random.NextBytes(pixels);
        data = new ImageDataset(pixels, Enumerable.Range(0, 64).Select(_ => (long)random.Next(10)).ToArray(), 1, 28, 28,
            Enumerable.Range(0, 10).Select(c => c.ToString()).ToList());
        return DeepCompression.Share(graph, new CompressionOptions { FullyConnectedBits = 3 });
    }

    [Fact]
    public void One_sgd_step_moves_each_centroid_by_its_clusters_summed_gradient()
    {
        var shared = SharedLeNet(out var data);
        using var batch = data.GetBatch(Enumerable.Range(0, 64).ToArray());
        using var module = new GraphModule(shared.Graph);
        using var tuning = new CentroidFineTuning(module, shared.Layers);
        const double rate = 0.001;

        // The reference: plain autograd on the shared model, gradients summed per cluster by hand.
        using var reference = new GraphModule(shared.Graph);
        var loss = nn.functional.cross_entropy(reference.call(batch.Inputs), batch.Targets);
        loss.backward();
        var weights = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);

        var options = new TrainerOptions { Epochs = 1, BatchSize = 64, Shuffle = false, Schedule = new ConstantSchedule(rate), Optimizer = new OptimizerSettings(OptimizerKind.Sgd, 0) };
        using var trainer = new Trainer(module, options);
        trainer.Callbacks.Add(tuning);
        trainer.Fit(data);

        foreach (var (before, after) in shared.Layers.Zip(tuning.Layers()))
        {
            var grad = weights[before.Name].grad!.flatten().data<float>().ToArray();
            var expected = new double[before.Clusters.Centroids.Length];
            for (int i = 0; i < grad.Length; i++)
                if (before.Clusters.Assignments[i] != WeightClusters.Pruned) expected[before.Clusters.Assignments[i]] += grad[i];
            for (int c = 0; c < expected.Length; c++)
                Assert.Equal(before.Clusters.Centroids[c] - rate * expected[c], after.Clusters.Centroids[c], 1e-5);
            Assert.Equal(before.Clusters.Assignments, after.Clusters.Assignments);
        }
    }

    [Fact]
    public void Training_with_momentum_keeps_sharing_and_zeros_exact()
    {
        var shared = SharedLeNet(out var data);
        var options = new TrainerOptions { Epochs = 3, BatchSize = 16, Schedule = new ConstantSchedule(1e-3), Optimizer = new OptimizerSettings(OptimizerKind.Sgd, 0.9, WeightDecay: 1e-4) };
        var (tuned, _) = DeepCompression.FineTune(shared, data, options);
        foreach (var (before, after) in shared.Layers.Zip(tuned.Layers))
        {
            var values = tuned.Graph.Initializers[after.Name].flatten().data<float>().ToArray();
            Assert.Equal(after.Clusters.Expand(), values); // every weight equals its centroid exactly, pruned ones zero
            Assert.NotEqual(before.Clusters.Centroids, after.Clusters.Centroids);
        }
    }
}
