using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

public class DependencyGraphTests
{
    [Fact]
    public void Residual_partners_share_one_group_and_the_classifier_output_is_blocked()
    {
        using var model = ModelZoo.CreateClassifier("resnet-20", new ClassifierOptions(1, 28, 10));
        var graph = DependencyGraph.Build(model, new[] { randn(1, 1, 28, 28) });
        // Stage 1: the stem and every block's second conv are added together -> one 16-channel group.
        var stage1 = Assert.Single(graph.Groups, g => g.Producers.Contains("conv1"));
        Assert.Equal(16, stage1.Size);
        Assert.Contains("layer1.0.conv2", stage1.Producers);
        Assert.Contains("layer1.2.conv2", stage1.Producers);
        // Inner convs of each block are free groups of their own.
        Assert.Contains(graph.Groups, g => g.Producers.SequenceEqual(new[] { "layer2.1.conv1" }) && g.Size == 32);
        var fc = Assert.Single(graph.Blocked, b => b.Producers.Contains("fc"));
        Assert.Contains(fc.Reasons, r => r.Contains("graph output"));
    }

    [Theory]
    [InlineData("lenet-300-100", 28)]
    [InlineData("lenet-5", 28)]
    [InlineData("conv-4", 28)]
    [InlineData("vgg-11", 28)]
    [InlineData("resnet-20", 28)]
    [InlineData("resnet-18", 32)]
    [InlineData("mobilenet-v2", 32)]
    public void Surgery_equals_zeroing_the_consumers_of_removed_channels(string name, long size)
    {
        using var model = ModelZoo.CreateClassifier(name, new ClassifierOptions(1, size, 10, Seed: 5));
        RandomiseBatchNorm(model);
        var pruned = StructuredEquivalence.PruneAndCheck(model, randn(3, 1, size, size), new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        Assert.True(pruned.parameters().Sum(p => p.numel()) < 0.6 * model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Tiny_gpt_channel_pruning_removes_mlp_neurons_and_leaves_the_heads_whole()
    {
        using var model = TinyGpt.Create(new TinyGptOptions(VocabularySize: 40, ContextLength: 12, Layers: 2, Heads: 2, Width: 16, Seed: 1));
        var ids = randint(0, 40, new long[] { 2, 12 }, dtype: int64);
        var graph = DependencyGraph.Build(model, new[] { ids });
        Assert.Equal(2, graph.Groups.Count(g => g.Producers.Any(p => p.EndsWith("mlp.fc.matmul")) && g.Size == 64));
        Assert.Equal(2, graph.Groups.Count(g => g.IsHeads && g.Producers.Any(p => p.EndsWith("attn.q.matmul"))));
        // The residual stream (embedding columns and every projection into it) reaches the tied head, whose weight is
        // the embedding table transposed at run time, so it stays whole.
        Assert.Contains(graph.Blocked, b => b.Producers.Contains("wte") && b.Producers.Any(p => p.EndsWith("attn.o.matmul"))
                                            && b.Reasons.Any(r => r.Contains("'head' (MatMul)")));
        var pruned = StructuredEquivalence.PruneAndCheck(model, ids, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 }, tolerance: 1e-4);
        Assert.Equal(new long[] { 16, 32 }, pruned.get_parameter("blocks.0.mlp.fc.weight")!.shape);
        Assert.Equal(new long[] { 16, 16 }, pruned.get_parameter("blocks.0.attn.q.weight")!.shape);
    }

    [Fact]
    public void Global_pruning_removes_the_requested_share_and_respects_round_to()
    {
        using var model = ModelZoo.CreateClassifier("resnet-20", new ClassifierOptions(1, 28, 10, Seed: 2));
        RandomiseBatchNorm(model);
        var graph = DependencyGraph.Build(model, new[] { randn(1, 1, 28, 28) });
        var removed = ChannelSelection.Select(graph, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5, RoundTo = 8 });
        foreach (var group in graph.Groups)
        {
            int kept = group.Size - removed.GetValueOrDefault(group.Id, Array.Empty<int>()).Length;
            Assert.Equal(0, kept % 8);
            // Rounded down from half (16 → 8, 32 → 16, 64 → 32), never below one multiple.
            Assert.Equal(Math.Max(8, group.Size / 2 / 8 * 8), kept);
        }

        var global = ChannelSelection.Select(graph, new RandomImportance(1), new ChannelPruningOptions { Ratio = 0.3, Global = true });
        int total = graph.Groups.Sum(g => g.Size);
        Assert.Equal((int)Math.Round(0.3 * total), global.Values.Sum(v => v.Length));
    }

    [Fact]
    public void A_global_bn_scale_ranking_compares_the_scales_as_they_are()
    {
        using var model = ModelZoo.CreateClassifier("vgg-11", new ClassifierOptions(1, 28, 10, Seed: 3));
        var graph = DependencyGraph.Build(model, new[] { randn(1, 1, 28, 28) });
        var groups = graph.Groups.Where(g => g.Members.Any(m => m.OpType == "BatchNormalization")).ToList();
        // Every γ of the first group is 0.1 + tiny, of the others 1 + tiny: one threshold takes the first group's
        // channels first (up to --max-ratio), where a mean-normalised ranking would spread the removal.
        using (no_grad())
            foreach (var (group, index) in groups.Select((g, i) => (g, i)))
                foreach (var member in group.Members.Where(m => m.OpType == "BatchNormalization" && m.Input == 1))
                {
                    var gamma = model.Weights()[member.Weight];
                    gamma.copy_((index == 0 ? 0.1 : 1.0) + 1e-3 * rand(gamma.shape));
                }
        var first = groups[0];
        var removed = ChannelSelection.Select(graph, new BatchNormScaleImportance(), new ChannelPruningOptions { Ratio = 0.01, Global = true, Ignore = new[] { "classifier" } });
        int target = (int)Math.Round(0.01 * graph.Groups.Where(g => !g.Producers.Contains("classifier")).Sum(g => g.Size));
        Assert.True(target <= (int)(0.9 * first.Size), "the test needs the target inside the first group's cap");
        Assert.Equal(target, Assert.Single(removed).Value.Length);
        Assert.Equal(first.Id, removed.Keys.Single());
    }

    [Fact]
    public void The_pruned_model_owns_its_weights()
    {
        using var model = ModelZoo.CreateClassifier("resnet-20", new ClassifierOptions(1, 28, 10, Seed: 4));
        var before = model.Weights().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var graph = DependencyGraph.Build(model, new[] { randn(new long[] { 1, 1, 28, 28 }, generator: new Generator(4)) });
        var removed = ChannelSelection.Select(graph, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5, Ignore = new[] { "fc" } });
        using var pruned = Surgery.Apply(graph, removed);

        // Pruned and unpruned weights alike (the classifier is kept whole): changing them leaves the original alone.
        using (no_grad())
            foreach (var weight in pruned.Weights().Values.Where(w => w.is_floating_point()))
                weight.add_(1);
        foreach (var (name, weight) in model.Weights())
            Assert.True(weight.equal(before[name]).all().item<bool>(), $"'{name}' of the original changed with the pruned model");
    }

    [Fact]
    public void Depthwise_convolutions_shrink_with_their_input_and_keep_group_equal_to_width()
    {
        var b = new GraphBuilder("dw", seed: 3);
        var x = b.Input("input", null, 3, 12, 12);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 16, 3, "expand", padding: 1), "bn0"));
        h = b.Relu(b.BatchNorm(b.Conv2d(h, 16, 3, "depthwise", padding: 1, groups: 16), "bn1"));
        var skip = h;
        h = b.BatchNorm(b.Conv2d(h, 16, 1, "project"), "bn2");
        h = b.Add(h, skip, "residual");
        h = b.Flatten(b.GlobalAvgPool(h));
        b.Output(b.Linear(h, 4, "fc"), "logits");
        using var model = b.Build();
        RandomiseBatchNorm(model);
        var pruned = StructuredEquivalence.PruneAndCheck(model, randn(2, 3, 12, 12), new FpgmImportance(), new ChannelPruningOptions { Ratio = 0.25 });
        var depthwise = pruned.Graph.Nodes.Single(n => n.Name == "depthwise");
        Assert.Equal(12, depthwise.GetInt("group", 0));
    }

    [Fact]
    public void Grouped_convolutions_shrink_every_group_alike_and_depthwise_filters_of_unprunable_inputs_stay()
    {
        var b = new GraphBuilder("grouped", seed: 4);
        var x = b.Input("input", null, 3, 10, 10);
        var h = b.Conv2d(x, 3, 3, "dw_input", padding: 1, groups: 3); // depthwise on the image: its channels cannot go
        h = b.Relu(b.BatchNorm(b.Conv2d(h, 8, 3, "conv1", padding: 1), "bn1"));
        h = b.Relu(b.BatchNorm(b.Conv2d(h, 8, 3, "grouped", padding: 1, groups: 2), "bn2"));
        h = b.Relu(b.Conv2d(h, 8, 1, "conv3"));
        b.Output(b.Linear(b.Flatten(b.GlobalAvgPool(h)), 4, "fc"), "logits");
        using var model = b.Build();
        RandomiseBatchNorm(model);
        var graph = DependencyGraph.Build(model, new[] { randn(1, 3, 10, 10) });
        Assert.DoesNotContain(graph.Groups, g => g.Producers.Contains("dw_input"));
        // Channel j of both groups is one channel: 8 filters make 4 removable channels, on either side of the grouped conv.
        Assert.Equal(4, graph.Groups.Single(g => g.Producers.Contains("conv1")).Size);
        Assert.Equal(4, graph.Groups.Single(g => g.Producers.Contains("grouped")).Size);
        using var pruned = StructuredEquivalence.PruneAndCheck(model, randn(2, 3, 10, 10), new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5, Ignore = new[] { "conv3" } });
        Assert.Equal(2, pruned.Graph.Nodes.Single(n => n.Name == "grouped").GetInt("group", 0));
        Assert.Equal(new long[] { 4, 2, 3, 3 }, pruned.get_parameter("grouped.weight")!.shape);
        Assert.Equal(new long[] { 4, 3, 3, 3 }, pruned.get_parameter("conv1.weight")!.shape);
    }

    [Fact]
    public void Criteria_rank_channels_as_their_definitions_say()
    {
        var b = new GraphBuilder("two", seed: 1);
        var x = b.Input("input", null, 4);
        var h = b.Relu(b.Linear(x, 3, "fc1"));
        b.Output(b.Linear(h, 2, "fc2"), "y");
        using var model = b.Build();
        using (no_grad())
        {
            var w = model.get_parameter("fc1.weight")!;
            w.copy_(tensor(new float[,] { { 1, 1, 1, 1 }, { 3, 0, 0, 0 }, { 0.5f, 0.5f, 0, 0 } }));
        }
        var graph = DependencyGraph.Build(model, new[] { randn(1, 4) });
        var group = Assert.Single(graph.Groups);
        var l1 = new MagnitudeImportance(P: 1).Score(group, model).data<double>().ToArray();
        Assert.Equal(new[] { 4.0, 3.0, 1.0 }, l1, (a, b) => Math.Abs(a - b) < 1e-5);
        var l2 = new MagnitudeImportance(P: 2).Score(group, model).data<double>().ToArray();
        Assert.Equal(new[] { 4.0, 9.0, 0.5 }, l2, (a, b) => Math.Abs(a - b) < 1e-5);
        var fpgm = new FpgmImportance().Score(group, model).data<double>().ToArray();
        double d01 = Math.Sqrt(4 + 3), d02 = Math.Sqrt(0.25 + 0.25 + 1 + 1), d12 = Math.Sqrt(2.5 * 2.5 + 0.25);
        Assert.Equal(d01 + d02, fpgm[0], 5);
        Assert.Equal(d01 + d12, fpgm[1], 5);
        Assert.Equal(d02 + d12, fpgm[2], 5);
    }

    internal static void RandomiseBatchNorm(GraphModule model, long seed = 0)
    {
        // Fresh BatchNorm has mean 0 / var 1; give it real statistics so the equivalence check is not trivial.
        // A generator of its own keeps this independent of other tests running in parallel.
        using var generator = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (name, buffer) in model.named_buffers())
        {
            if (name.EndsWith("running_mean")) buffer.copy_(randn(buffer.shape, generator: generator) * 0.1);
            if (name.EndsWith("running_var")) buffer.copy_(rand(buffer.shape, generator: generator) + 0.5);
        }
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("bn") && name.EndsWith(".bias")) p.copy_(randn(p.shape, generator: generator) * 0.1);
    }
}
