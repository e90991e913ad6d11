using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Models;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

public class ResidualBlockTests
{
    [Theory]
    [InlineData("resnet-20", 28, new[] { "layer1.0", "layer1.1", "layer1.2", "layer2.1", "layer2.2", "layer3.1", "layer3.2" })]
    [InlineData("resnet-18", 32, new[] { "layer1.0", "layer1.1", "layer2.1", "layer3.1", "layer4.1" })]
    public void Resnet_blocks_with_an_identity_skip_are_found_and_projection_shortcuts_are_not(string name, long size, string[] expected)
    {
        using var model = ModelZoo.CreateClassifier(name, new ClassifierOptions(1, size, 10));
        var blocks = ResidualBlocks.Find(model, new[] { randn(1, 1, size, size) });
        Assert.Equal(expected.Select(e => $"{e}.add"), blocks.Select(b => b.Add));
        var first = blocks[0];
        Assert.Equal(new[] { "conv1", "bn1", "relu1", "conv2", "bn2" }.Select(n => $"{expected[0]}.{n}"), first.Nodes);
        Assert.Equal($"{expected[0]}.bn2", first.Branch);
        Assert.Contains($"{expected[0]}.conv2.weight", first.Weights);
        Assert.Contains($"{expected[0]}.bn1.running_var", first.Weights);
    }

    [Theory]
    [InlineData("resnet-20", 28, new[] { 1 })]
    [InlineData("resnet-20", 28, new[] { 0, 3, 6 })]
    [InlineData("resnet-18", 32, new[] { 2, 4 })]
    public void Removing_resnet_blocks_equals_zeroing_the_last_batch_norm_of_their_branch(string name, long size, int[] which)
    {
        using var model = ModelZoo.CreateClassifier(name, new ClassifierOptions(1, size, 10, Seed: 4));
        DependencyGraphTests.RandomiseBatchNorm(model, seed: 3);
        var input = randn(new long[] { 4, 1, size, size }, generator: new Generator(5));
        RemovalEqualsZeroing(model, new[] { input }, which);
    }

    [Theory]
    [InlineData(2, 2, 16, true)]
    [InlineData(3, 4, 32, false)]
    public void Tiny_gpt_attention_and_mlp_sub_blocks_are_removable_and_removal_equals_zeroing_their_output_projection(int layers, int heads, int width, bool bias)
    {
        using var model = TinyGpt.Create(new TinyGptOptions(VocabularySize: 40, ContextLength: 12, Layers: layers, Heads: heads, Width: width, Seed: 2, Bias: bias));
        var ids = randint(0, 40, new long[] { 3, 10 }, generator: new Generator(8), dtype: int64);
        var blocks = ResidualBlocks.Find(model, new[] { ids[..1] });
        Assert.Equal(Enumerable.Range(0, layers).SelectMany(l => new[] { $"blocks.{l}.residual1", $"blocks.{l}.residual2" }), blocks.Select(b => b.Add));
        Assert.Contains("blocks.0.attn.softmax", blocks[0].Nodes);
        Assert.Contains("blocks.0.attn.causal.allowed", blocks[0].Nodes); // the mask constant only the branch reads
        Assert.Equal("blocks.0.ln2", blocks[1].Nodes[0]);
        using var pruned = RemovalEqualsZeroing(model, new[] { ids }, new[] { 0, 2 * layers - 1 });
        AttentionHeadTests.AgreesWithOnnxRuntime(pruned, new Dictionary<string, Tensor> { ["input_ids"] = ids });
    }

    [Fact]
    public void A_branch_whose_values_are_read_elsewhere_or_that_reads_other_values_is_not_removable()
    {
        var b = new GraphBuilder("escape", seed: 1);
        var x = b.Input("x", null, 8);
        var h = b.Relu(b.Linear(x, 8, "fc1"), "relu");
        var y = b.Add(x, b.Linear(h, 8, "fc2"), "skip1");   // h escapes to skip3: not removable
        var z = b.Add(y, b.Linear(y, 8, "fc3"), "skip2");   // removable
        var w = b.Add(z, b.Linear(x, 8, "fc4"), "skip3");   // the branch reads x, not z: no identity skip of z
        b.Output(b.Add(w, h, "skip4"), "out");
        using var model = b.Build();
        var blocks = ResidualBlocks.Find(model, new[] { randn(2, 8) });
        var block = Assert.Single(blocks);
        Assert.Equal(("skip2", "skip1"), (block.Add, block.Input));
        Assert.Equal(new[] { "fc3" }, block.Nodes);
        Assert.Equal(new[] { "fc3.weight", "fc3.bias" }, block.Weights);
    }

    [Theory]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 0, 1 })]
    public void Nested_blocks_and_a_block_that_ends_the_graph_are_removed_cleanly(int[] which)
    {
        var b = new GraphBuilder("nested", seed: 3);
        var x = b.Input("x", null, 6);
        var u = b.Relu(b.Linear(x, 6, "fc1"), "relu");
        var z = b.Add(u, b.Linear(u, 6, "fc2"), "inner");           // z = u + H(u), inside the outer branch
        b.Output(b.Add(x, b.Linear(z, 6, "fc3"), "y"), "y");       // y = x + F(x), and y is the graph output
        using var model = b.Build();
        var blocks = ResidualBlocks.Find(model, new[] { randn(1, 6) });
        Assert.Equal(new[] { "inner", "y" }, blocks.Select(k => k.Add));
        Assert.Contains("inner", blocks[1].Nodes);
        using var pruned = RemovalEqualsZeroing(model, new[] { randn(new long[] { 5, 6 }, generator: new Generator(1)) }, which);
        // Without the outer Add, the graph output y is an Identity of x.
        Assert.Equal(which.Contains(1) ? 1 : 0, pruned.Graph.Nodes.Count(n => n.OpType == "Identity" && n.Outputs[0] == "y"));
    }

    [Fact]
    public void The_pruner_removes_the_blocks_with_the_smallest_relative_residual_norm()
    {
        using var model = ModelZoo.CreateClassifier("resnet-20", new ClassifierOptions(1, 28, 10, Seed: 6));
        DependencyGraphTests.RandomiseBatchNorm(model, seed: 6);
        using (no_grad())
        {
            // Block layer2.2 adds almost nothing: its branch ends in a BatchNorm with tiny scale and no shift.
            model.get_parameter("layer2.2.bn2.weight")!.mul_(1e-3);
            model.get_parameter("layer2.2.bn2.bias")!.zero_();
        }
        var calibration = new[] { randn(new long[] { 8, 1, 28, 28 }, generator: new Generator(2)) };
        var blocks = ResidualBlocks.Find(model, new[] { calibration[0][..1] });
        var scores = new ResidualNormImportance().Score(model, blocks, calibration);

        // The definition, computed by hand: mean over examples of ‖F(x)‖ / ‖x‖.
        var values = new Dictionary<string, Tensor>();
        model.eval();
        using (no_grad()) model.Run(calibration, values, new[] { blocks[3].Input, blocks[3].Branch });
        var (x, f) = (values[blocks[3].Input].flatten(1), values[blocks[3].Branch].flatten(1));
        double expected = Enumerable.Range(0, 8).Average(n => f[n].norm().item<float>() / (double)x[n].norm().item<float>());
        Assert.Equal(expected, scores[3], 4);

        var result = BlockPruner.Prune(model, calibration, 2);
        using var pruned = result.Model;
        var removed = result.Blocks.Where(b => b.Removed).ToList();
        Assert.Equal(2, removed.Count);
        Assert.Contains(removed, b => b.Block.Add == "layer2.2.add");
        Assert.All(result.Blocks.Where(b => !b.Removed), kept => Assert.True(kept.Score >= removed.Max(r => r.Score)));
        Assert.True(result.PrunedMacs < result.DenseMacs && result.PrunedParameters < result.DenseParameters);
        Assert.Equal(5, ResidualBlocks.Find(pruned, new[] { calibration[0][..1] }).Count);
        Assert.Throws<ArgumentException>(() => BlockPruner.Prune(model, calibration, 8));
    }

    /// <summary>
    /// Removes blocks <paramref name="which"/> and checks: outputs equal the original's with each removed branch's last
    /// weighted node zeroed (so the branch adds 0), MACs fall by exactly the removed nodes' MACs, and the removed
    /// nodes and weights are gone.
    /// </summary>
    static GraphModule RemovalEqualsZeroing(GraphModule model, IReadOnlyList<Tensor> inputs, int[] which)
    {
        model.eval();
        var one = inputs.Select(t => t[..1]).ToList();
        var blocks = ResidualBlocks.Find(model, one);
        var chosen = which.Select(i => blocks[i]).ToList();
        var pruned = BlockSurgery.Remove(model, chosen);
        pruned.eval();

        var graph = model.ToGraph();
        foreach (var block in chosen) ZeroOutput(graph, block.Branch);
        using var zeroed = new GraphModule(graph);
        zeroed.eval();
        using (no_grad())
        {
            var expected = zeroed.Run(inputs)[0];
            var actual = pruned.Run(inputs)[0];
            Assert.Equal(expected.shape, actual.shape);
            double difference = (expected - actual).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"removed and zeroed models differ by {difference}");
            Assert.True((model.Run(inputs)[0] - actual).abs().max().item<float>() > 1e-4, "removing the blocks should change the outputs");
        }

        var dense = MacCounter.Measure(model, one);
        var gone = chosen.SelectMany(b => b.Nodes).ToHashSet();
        Assert.Equal(dense.DenseMacs - dense.Layers.Where(l => gone.Contains(l.Name)).Sum(l => l.DenseMacs), MacCounter.Measure(pruned, one).DenseMacs);
        Assert.DoesNotContain(pruned.Graph.Nodes, n => gone.Contains(n.Name) || (n.OpType == "Add" && chosen.Any(b => b.Add == n.Name)));
        Assert.Equal(model.Graph.Initializers.Keys.Except(chosen.SelectMany(b => b.Weights)).Order(), pruned.Graph.Initializers.Keys.Order());
        return pruned;
    }

    /// <summary>Makes <paramref name="value"/> zero: a BatchNorm's scale and shift, or a linear layer's weight and bias.</summary>
    static void ZeroOutput(PruneSharp.Graph.Graph graph, string value)
    {
        var node = graph.Nodes.Single(n => n.Outputs.Contains(value));
        void Zero(string name) => graph.Initializers[name] = zeros_like(graph.Initializers[name]);
        switch (node.OpType)
        {
            case "BatchNormalization":
                Zero(node.Inputs[1]);
                Zero(node.Inputs[2]);
                break;
            case "Add": // MatMul + bias
                string bias = node.Inputs.Single(graph.Initializers.ContainsKey);
                Zero(bias);
                ZeroOutput(graph, node.Inputs.Single(i => i != bias));
                break;
            case "MatMul" or "Gemm" or "Conv":
                foreach (string weight in node.Inputs.Skip(1)) Zero(weight);
                break;
            default:
                throw new InvalidOperationException($"no zeroing for {node.OpType}");
        }
    }
}
