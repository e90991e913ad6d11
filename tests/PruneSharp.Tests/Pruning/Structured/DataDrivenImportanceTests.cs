using PruneSharp.Graph;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

public class DataDrivenImportanceTests
{
    /// <summary>conv1 (8) → bn1 → relu1 → conv2 (4) → bn2 → relu2 → global pool → fc (3); bn1's channel 5 is shifted so far down that ReLU always zeroes it.</summary>
    static GraphModule SmallCnn(bool dead = true)
    {
        var b = new GraphBuilder("cnn", seed: 11);
        var x = b.Input("input", null, 3, 8, 8);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 8, 3, "conv1", padding: 1), "bn1"), "relu1");
        h = b.Relu(b.BatchNorm(b.Conv2d(h, 4, 3, "conv2", padding: 1), "bn2"), "relu2");
        b.Output(b.Linear(b.Flatten(b.GlobalAvgPool(h)), 3, "fc"), "logits");
        var model = b.Build();
        DependencyGraphTests.RandomiseBatchNorm(model, seed: 4);
        if (dead)
            using (no_grad()) model.get_parameter("bn1.bias")![5] = -1000f;
        model.eval();
        return model;
    }

    static List<IReadOnlyList<Tensor>> Batches(int count, int size, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return Enumerable.Range(0, count).Select(_ => (IReadOnlyList<Tensor>)new[] { randn(new long[] { size, 3, 8, 8 }, generator: generator) }).ToList();
    }

    [Fact]
    public void Apoz_of_a_channel_that_relu_always_zeroes_is_one_and_it_is_pruned_first()
    {
        using var model = SmallCnn();
        var batches = Batches(2, 5, seed: 1);
        var graph = DependencyGraph.Build(model, new[] { batches[0][0] });
        var apoz = new ApozImportance();
        apoz.Observe(graph, batches);
        var group = Assert.Single(graph.Groups, g => g.Producers.SequenceEqual(new[] { "conv1" }));
        var scores = apoz.Score(group, model).data<double>().ToArray();
        Assert.Equal(0.0, scores[5]);

        // Naive reference: the fraction of zeros of relu1's output per channel over both batches.
        var captured = batches.Select(batch =>
        {
            var c = new Dictionary<string, Tensor>();
            using (no_grad()) model.Run(batch, c, new[] { "relu1" });
            return c["relu1"];
        }).ToList();
        var reference = (1 - cat(captured, 0).eq(0).to_type(ScalarType.Float64).mean(new long[] { 0, 2, 3 })).data<double>().ToArray();
        Assert.Equal(reference, scores, (a, b) => Math.Abs(a - b) < 1e-12);

        var removed = ChannelSelection.Select(graph, apoz, new ChannelPruningOptions { Ratio = 0.125, Ignore = new[] { "conv2" } });
        Assert.Equal(new[] { 5 }, removed[group.Id]);
    }

    [Fact]
    public void Apoz_pruning_through_the_pipeline_matches_the_zeroed_original()
    {
        using var model = SmallCnn();
        var batches = Batches(1, 6, seed: 2);
        var apoz = new ApozImportance();
        var result = ChannelPruner.Prune(model, batches[0], apoz, new ChannelPruningOptions { Ratio = 0.25 },
            beforeScoring: g => apoz.Observe(g, batches));
        using var pruned = result.Model;
        Assert.Equal(new long[] { 6, 3, 3, 3 }, pruned.get_parameter("conv1.weight")!.shape);
        var apoz2 = new ApozImportance();
        apoz2.Observe(DependencyGraph.Build(model, batches[0]), batches);
        StructuredEquivalence.PruneAndCheck(model, batches[0][0], apoz2, new ChannelPruningOptions { Ratio = 0.25 });
    }

    [Fact]
    public void Apoz_names_a_group_that_no_relu_follows()
    {
        var b = new GraphBuilder("linear", seed: 2);
        var x = b.Input("input", null, 4);
        var h = b.Linear(x, 6, "fc1");
        b.Output(b.Linear(h, 2, "fc2"), "y");
        using var model = b.Build();
        var sample = randn(3, 4);
        var graph = DependencyGraph.Build(model, new[] { sample });
        var apoz = new ApozImportance();
        Assert.Throws<InvalidOperationException>(() => apoz.Score(graph.Groups[0], model));
        apoz.Observe(graph, new[] { new[] { sample } });
        var error = Assert.Throws<InvalidOperationException>(() => apoz.Score(graph.Groups[0], model));
        Assert.Contains("no ReLU-like activation", error.Message);
        Assert.Contains("fc1", error.Message);
    }

    [Fact]
    public void Fisher_equals_half_the_mean_squared_per_sample_first_order_term_of_the_consumer_weights()
    {
        using var model = SmallCnn(dead: false);
        var inputs = Batches(2, 4, seed: 3);
        var targets = new[] { tensor(new long[] { 0, 1, 2, 1 }), tensor(new long[] { 2, 2, 0, 1 }) };
        var graph = DependencyGraph.Build(model, inputs[0]);
        var fisher = new FisherImportance();
        fisher.Observe(graph, inputs.Zip(targets, (i, t) => (i, t)));

        // Naive reference, one sample at a time: t_c = Σ over the consumer's input slice c of w · ∂L_n/∂w.
        foreach (var (producer, consumer) in new[] { ("conv1", "conv2.weight"), ("conv2", "fc.weight") })
        {
            var group = Assert.Single(graph.Groups, g => g.Producers.SequenceEqual(new[] { producer }));
            var weight = model.get_parameter(consumer)!;
            var sum = zeros(group.Size, dtype: float64);
            int samples = 0;
            for (int batch = 0; batch < 2; batch++)
                for (int n = 0; n < 4; n++)
                {
                    var loss = nn.functional.cross_entropy(model.call(inputs[batch][0][n..(n + 1)]), targets[batch][n..(n + 1)]);
                    var g = autograd.grad(new[] { loss }, new[] { weight })[0];
                    var perInput = (weight.detach() * g).transpose(0, 1).reshape(group.Size, -1).sum(1).to_type(ScalarType.Float64);
                    sum += perInput.pow(2);
                    samples++;
                }
            var reference = (sum * (0.5 / samples)).data<double>().ToArray();
            var scores = fisher.Score(group, model).data<double>().ToArray();
            for (int c = 0; c < group.Size; c++)
                Assert.True(Math.Abs(scores[c] - reference[c]) <= 1e-4 * reference.Max(), $"{producer} channel {c}: {scores[c]} vs reference {reference[c]}");
        }
        StructuredEquivalence.PruneAndCheck(model, inputs[0][0], fisher, new ChannelPruningOptions { Ratio = 0.5 });
    }
}
