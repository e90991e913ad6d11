using PruneSharp.Graph;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;
using Value = PruneSharp.Graph.GraphBuilder.Value;

namespace PruneSharp.Tests.Pruning.Structured;

/// <summary>Channel rules of ops beyond the basic conv/linear chain, each checked with the equivalence oracle.</summary>
public class ChannelRuleTests
{
    static Dictionary<string, AttributeValue> Attributes(params (string Name, AttributeValue Value)[] attributes) =>
        attributes.ToDictionary(a => a.Name, a => a.Value);

    /// <summary>Adds a raw node whose outputs are named <c>{name}</c> (one) or <c>{name}_k</c> (several).</summary>
    static Value[] Raw(GraphBuilder b, string op, string name, string[] inputs, long?[][] shapes, Dictionary<string, AttributeValue>? attributes = null)
    {
        var outputs = shapes.Length == 1 ? new[] { name } : shapes.Select((_, k) => $"{name}_{k}").ToArray();
        b.Graph.Nodes.Add(new Node(name, op, inputs, outputs, attributes));
        return outputs.Select((o, k) => new Value(o, shapes[k])).ToArray();
    }

    static string Int64s(GraphBuilder b, string name, params long[] values)
    {
        b.Graph.Initializers[name] = tensor(values);
        return name;
    }

    static GraphModule Finish(GraphBuilder b, Value h)
    {
        b.Output(b.Linear(b.Flatten(b.GlobalAvgPool(b.Relu(h))), 3, "fc"), "logits");
        var model = b.Build();
        DependencyGraphTests.RandomiseBatchNorm(model, seed: 3);
        model.eval();
        return model;
    }

    [Theory]
    [InlineData(0, 12, 2)]
    [InlineData(11, -13, -1)]
    [InlineData(-2, 0, -3)]
    public void A_strided_slice_of_channels_becomes_a_gather_of_the_survivors(long start, long end, long step)
    {
        var b = new GraphBuilder("strided", seed: 3);
        var x = b.Input("input", null, 3, 8, 8);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 12, 3, "conv1", padding: 1), "bn1"));
        int taken = Enumerable.Range(0, 12).Count(p => step > 0 ? p >= start && p < end && (p - start) % step == 0
                                                                : p <= (start + 12) % 12 && ((start + 12) % 12 - p) % -step == 0);
        var sliced = Raw(b, "Slice", "stride", new[] { h.Name, Int64s(b, "starts", start), Int64s(b, "ends", end), Int64s(b, "axes", 1), Int64s(b, "steps", step) },
            new[] { new long?[] { null, taken, 8, 8 } })[0];
        using var model = Finish(b, b.Conv2d(sliced, 6, 3, "conv2", padding: 1));

        using var pruned = StructuredEquivalence.PruneAndCheck(model, randn(new long[] { 2, 3, 8, 8 }, generator: new Generator(4)),
            new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        Assert.Equal("Gather", pruned.Graph.Nodes.Single(n => n.Name == "stride").OpType);
        using var folder = new Support.TempFolder();
        PruneSharp.Onnx.OnnxFile.Save(pruned, folder.File("pruned.onnx"));
        using var runtime = new PruneSharp.Onnx.OnnxRuntimeRunner(folder.File("pruned.onnx"));
        var input = randn(new long[] { 2, 3, 8, 8 }, generator: new Generator(5));
        using var _ = no_grad();
        Assert.True(runtime.Run(new Dictionary<string, Tensor> { ["input"] = input }).First().Value.allclose(pruned.call(input), 1e-4, 1e-5));
    }

    [Fact]
    public void Gather_of_channels_by_constant_indices_keeps_the_picks_of_the_survivors()
    {
        var b = new GraphBuilder("pick", seed: 2);
        var x = b.Input("input", null, 3, 8, 8);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 8, 3, "conv1", padding: 1), "bn1"));
        long[] picks = { 0, 2, 5, 7, 2, -1 }; // a repeated pick and a negative one
        var picked = Raw(b, "Gather", "pick", new[] { h.Name, Int64s(b, "picks", picks) }, new[] { new long?[] { null, picks.Length, 8, 8 } },
            Attributes(("axis", AttributeValue.FromInt(1))))[0];
        using var model = Finish(b, b.Conv2d(picked, 6, 3, "conv2", padding: 1));

        var graph = DependencyGraph.Build(model, new[] { randn(new long[] { 1, 3, 8, 8 }, generator: new Generator(1)) });
        var conv1 = Assert.Single(graph.Groups, g => g.Producers.SequenceEqual(new[] { "conv1" }));
        Assert.Equal(new[] { 0, 2, 5, 7, 2, 7 }, conv1.Members.Single(m => m.Node == "conv2").Channels);
        using var pruned = StructuredEquivalence.PruneAndCheck(model, randn(new long[] { 2, 3, 8, 8 }, generator: new Generator(2)),
            new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        var gather = pruned.Graph.Nodes.Single(n => n.Name == "pick");
        long[] kept = pruned.Graph.ConstantValue(gather.Inputs[1])!.data<long>().ToArray();
        Assert.Equal(kept.Length, pruned.get_parameter("conv2.weight")!.shape[1]);
        Assert.All(kept, k => Assert.InRange(k, 0, 3)); // renumbered into the 4 surviving channels
    }

    [Theory]
    [InlineData(17, "input")]
    [InlineData(17, "equal")]
    [InlineData(11, "attribute")]
    public void Split_on_the_channel_axis_gives_each_part_its_range_and_surgery_rewrites_the_sizes(int opset, string form)
    {
        var b = new GraphBuilder("split", seed: 1, opset: opset);
        var x = b.Input("input", null, 3, 8, 8);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 12, 3, "conv1", padding: 1), "bn1"));
        long[] sizes = form == "equal" ? new long[] { 6, 6 } : new long[] { 4, 8 };
        var inputs = form == "input" ? new[] { h.Name, Int64s(b, "sizes", sizes) } : new[] { h.Name };
        var attributes = Attributes(("axis", AttributeValue.FromInt(1)));
        if (form == "attribute") attributes["split"] = AttributeValue.FromInts(sizes);
        var parts = Raw(b, "Split", "split", inputs, sizes.Select(s => new long?[] { null, s, 8, 8 }).ToArray(), attributes);
        var sum = b.Add(b.Conv2d(parts[0], 6, 3, "conv_a", padding: 1), b.Conv2d(parts[1], 6, 1, "conv_b"));
        using var model = Finish(b, sum);

        var graph = DependencyGraph.Build(model, new[] { randn(1, 3, 8, 8) });
        var conv1 = Assert.Single(graph.Groups, g => g.Producers.SequenceEqual(new[] { "conv1" }));
        Assert.Equal(12, conv1.Size);
        var readers = conv1.Members.Where(m => m.Role == PruneSharp.Ops.WeightRole.Reads).ToDictionary(m => m.Node);
        Assert.Equal(Enumerable.Range(0, (int)sizes[0]), readers["conv_a"].Channels);
        Assert.Equal(Enumerable.Range((int)sizes[0], (int)sizes[1]), readers["conv_b"].Channels);

        using var pruned = StructuredEquivalence.PruneAndCheck(model, randn(2, 3, 8, 8), new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        long widthA = pruned.get_parameter("conv_a.weight")!.shape[1], widthB = pruned.get_parameter("conv_b.weight")!.shape[1];
        Assert.Equal(6, widthA + widthB);
    }

    [Fact]
    public void Slice_of_a_channel_range_follows_its_survivors_and_a_slice_strided_over_several_axes_is_left_out()
    {
        var b = new GraphBuilder("slice", seed: 2);
        var x = b.Input("input", null, 3, 8, 8);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 16, 3, "conv1", padding: 1), "bn1"));
        var slice = Raw(b, "Slice", "slice", new[] { h.Name, Int64s(b, "starts", 2), Int64s(b, "ends", 10), Int64s(b, "axes", 1) },
            new[] { new long?[] { null, 8, 8, 8 } })[0];
        var sum = b.Add(b.Conv2d(slice, 8, 3, "conv_slice", padding: 1), b.Conv2d(h, 8, 1, "conv_all"));
        using var model = Finish(b, sum);

        var graph = DependencyGraph.Build(model, new[] { randn(1, 3, 8, 8) });
        var conv1 = Assert.Single(graph.Groups, g => g.Producers.SequenceEqual(new[] { "conv1" }));
        Assert.Equal(Enumerable.Range(2, 8), conv1.Members.Single(m => m.Node == "conv_slice" && m.Role == PruneSharp.Ops.WeightRole.Reads).Channels);
        using var pruned = StructuredEquivalence.PruneAndCheck(model, randn(2, 3, 8, 8), new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        Assert.Equal(8, pruned.get_parameter("conv_all.weight")!.shape[1]);

        var strided = new GraphBuilder("strided", seed: 2);
        var y = strided.Relu(strided.Conv2d(strided.Input("input", null, 3, 8, 8), 16, 3, "conv1", padding: 1));
        // Strided on the channels and another axis at once: a Gather cannot replace it, so it stays whole.
        var odd = Raw(strided, "Slice", "slice", new[] { y.Name, Int64s(strided, "starts", 1, 0), Int64s(strided, "ends", 16, 8), Int64s(strided, "axes", 1, 2), Int64s(strided, "steps", 2, 2) },
            new[] { new long?[] { null, 8, 4, 8 } })[0];
        using var stridedModel = Finish(strided, strided.Conv2d(odd, 4, 1, "conv2"));
        var blocked = DependencyGraph.Build(stridedModel, new[] { randn(1, 3, 8, 8) }).Blocked;
        Assert.Contains(blocked, g => g.Producers.Contains("conv1") && g.Reasons.Any(r => r.Contains("step 2 on the channel axis and other axes")));
    }

    /// <summary>A ShuffleNetV2 unit (stride 1): split in halves, transform the second, concatenate, shuffle two groups.</summary>
    static Value ShuffleUnit(GraphBuilder b, Value x, string name)
    {
        long c = x.Size(1), half = c / 2;
        var parts = Raw(b, "Split", $"{name}.split", new[] { x.Name, Int64s(b, $"{name}.sizes", half, half) },
            new[] { new long?[] { null, half, 8, 8 }, new long?[] { null, half, 8, 8 } }, Attributes(("axis", AttributeValue.FromInt(1))));
        var h = b.Relu(b.BatchNorm(b.Conv2d(parts[1], half, 1, $"{name}.conv_a", bias: false), $"{name}.bn_a"));
        h = b.BatchNorm(b.Conv2d(h, half, 3, $"{name}.dw", padding: 1, groups: half, bias: false), $"{name}.bn_dw");
        h = b.Relu(b.BatchNorm(b.Conv2d(h, half, 1, $"{name}.conv_b", bias: false), $"{name}.bn_b"));
        var joined = Raw(b, "Concat", $"{name}.cat", new[] { parts[0].Name, h.Name }, new[] { new long?[] { null, c, 8, 8 } },
            Attributes(("axis", AttributeValue.FromInt(1))))[0];
        var grouped = b.Reshape(joined, new long[] { 0, 2, half, 8, 8 }, $"{name}.view");
        var swapped = b.Transpose(grouped, new long[] { 0, 2, 1, 3, 4 }, $"{name}.transpose");
        return b.Reshape(swapped, new long[] { 0, c, 8, 8 }, $"{name}.shuffle");
    }

    [Fact]
    public void Channel_shuffle_ties_the_shuffled_blocks_and_pruning_through_it_matches_the_zeroed_original()
    {
        var b = new GraphBuilder("shuffle", seed: 3);
        var x = b.Input("input", null, 3, 8, 8);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 16, 3, "stem", padding: 1), "bn_stem"));
        h = ShuffleUnit(b, h, "unit1");
        h = ShuffleUnit(b, h, "unit2");
        using var model = Finish(b, b.Conv2d(h, 8, 1, "head"));

        var graph = DependencyGraph.Build(model, new[] { randn(1, 3, 8, 8) });
        Assert.All(graph.Blocked, g => Assert.Equal(new[] { "fc" }, g.Producers));
        // The stem's channels and both units' outputs are one coupled group; the shuffle folds positions together.
        var main = Assert.Single(graph.Groups, g => g.Producers.Contains("stem"));
        Assert.Contains("unit1.conv_b", main.Producers);
        Assert.Contains("unit2.conv_b", main.Producers);

        using var pruned = StructuredEquivalence.PruneAndCheck(model, randn(2, 3, 8, 8), new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        Assert.True(pruned.get_parameter("stem.weight")!.shape[0] < 16);
        Assert.True(pruned.get_parameter("unit1.conv_a.weight")!.shape[0] < 8);
    }

    [Fact]
    public void Spatial_mean_without_keepdims_carries_the_channels_to_the_classifier()
    {
        var b = new GraphBuilder("mean", seed: 5);
        var h = b.Relu(b.BatchNorm(b.Conv2d(b.Input("input", null, 3, 8, 8), 12, 3, "conv1", padding: 1), "bn1"));
        var pooled = Raw(b, "ReduceMean", "mean", new[] { h.Name }, new[] { new long?[] { null, 12 } },
            Attributes(("axes", AttributeValue.FromInts(new long[] { 2, 3 })), ("keepdims", AttributeValue.FromInt(0))))[0];
        b.Output(b.Linear(pooled, 3, "fc"), "logits");
        using var model = b.Build();
        DependencyGraphTests.RandomiseBatchNorm(model);
        using var pruned = StructuredEquivalence.PruneAndCheck(model, randn(2, 3, 8, 8), new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        Assert.Equal(new long[] { 3, 6 }, pruned.get_parameter("fc.weight")!.shape);
    }
}
