using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

/// <summary>
/// BERT- and DistilBERT-style encoders exported by torch.onnx at opsets 11, 14 and 17 (bench/fixtures/make_bert_encoder.py):
/// three (or two) integer inputs with dynamic batch and sequence axes, head splits whose targets are computed from
/// x.size(), the attention mask computed in the graph. After the load passes every head and every FFN width is a
/// group, and removing them is exact.
/// </summary>
public class EncoderExportTests
{
    const int Layers = 2, Heads = 4, HeadSize = 8, Ffn = 128, Vocabulary = 2000;

    public static TheoryData<string> Exports => new() { "bert_tiny_opset11.onnx", "bert_tiny_opset14.onnx", "bert_tiny_opset17.onnx", "distilbert_tiny_opset14.onnx" };

    static GraphModule Load(string file)
    {
        var graph = OnnxFile.Read(Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures", file));
        StructuralPasses.Apply(graph);
        var module = new GraphModule(graph);
        module.eval();
        return module;
    }

    /// <summary>Token ids, a mask with padding at the end of every sequence but the first, token types 0 then 1.</summary>
    static Dictionary<string, Tensor> Inputs(GraphModule model, int batch, int length, int seed)
    {
        using var generator = new Generator((ulong)seed);
        var mask = ones(new long[] { batch, length }, ScalarType.Int64);
        for (int b = 1; b < batch; b++) mask[b, TensorIndex.Slice(length - b, null)] = tensor(0L);
        var types = zeros(new long[] { batch, length }, ScalarType.Int64);
        types[.., TensorIndex.Slice(length / 2, null)] = tensor(1L);
        var all = new Dictionary<string, Tensor>
        {
            ["input_ids"] = randint(5, Vocabulary, new long[] { batch, length }, generator: generator, dtype: ScalarType.Int64) * mask,
            ["attention_mask"] = mask,
            ["token_type_ids"] = types,
        };
        return model.InputNames.ToDictionary(n => n, n => all[n]);
    }

    static Tensor[] Ordered(GraphModule model, Dictionary<string, Tensor> inputs) => model.InputNames.Select(n => inputs[n]).ToArray();

    [Theory]
    [MemberData(nameof(Exports))]
    public void Every_head_and_ffn_width_is_a_group_after_the_load_passes(string file)
    {
        using var model = Load(file);
        var dependencies = DependencyGraph.Build(model, Ordered(model, Inputs(model, 2, 7, 1)));
        var attention = AttentionHeads.Find(dependencies);
        Assert.Equal(Layers, attention.Count);
        Assert.All(attention, a => Assert.Equal((Heads, HeadSize, 3), (a.Heads, a.HeadSize, a.Projections.Count)));
        var ffn = dependencies.Groups.Where(g => !g.IsHeads && g.Size == Ffn).ToList();
        Assert.Equal(Layers, ffn.Count);
        Assert.All(ffn, g => Assert.True(g.IsExact));
        // The hidden size is left out only because it is the width of the outputs (the decomposed LayerNorm was fused).
        var hidden = Assert.Single(dependencies.Blocked);
        Assert.Equal(Heads * HeadSize, hidden.Size);
        Assert.All(hidden.Reasons, r => Assert.StartsWith("reaches graph output", r));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(14)]
    public void The_exporters_decomposed_layer_norm_is_fused_on_load_and_written_back_decomposed(int opset)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures", $"bert_tiny_opset{opset}.onnx");
        var graph = OnnxFile.Read(path);
        InitializerCopies.Materialize(graph); // the untrained norms' scales are equal, so the exporter stored one and copies
        Assert.Equal(1 + 2 * Layers, LayerNormFusion.Apply(graph));
        Assert.DoesNotContain(graph.Nodes, n => n.OpType is "ReduceMean" or "Pow" or "Sqrt");
        using var original = OnnxFile.Load(path);
        using var fused = new GraphModule(graph);
        original.eval();
        fused.eval();
        var inputs = Inputs(fused, 3, 9, 4);
        using var _ = no_grad();
        var expected = original.Run(Ordered(original, inputs));
        var actual = fused.Run(Ordered(fused, inputs));
        for (int k = 0; k < expected.Length; k++)
            Assert.True((expected[k] - actual[k]).abs().max().item<float>() < 1e-5);

        using var folder = new TempFolder();
        string written = folder.File("fused.onnx");
        OnnxFile.Save(fused, written);
        var reread = OnnxFile.Read(written);
        Assert.Equal(opset, reread.Opset);
        Assert.DoesNotContain(reread.Nodes, n => n.OpType == "LayerNormalization");
        Assert.Equal(1 + 2 * Layers, reread.Nodes.Count(n => n.OpType == "Sqrt"));
        using var runtime = new OnnxRuntimeRunner(written);
        var reference = runtime.Run(inputs);
        for (int k = 0; k < actual.Length; k++)
            Assert.True((reference[fused.OutputNames[k]] - actual[k]).abs().max().item<float>() < 1e-4);
    }

    [Theory]
    [MemberData(nameof(Exports))]
    public void Removing_a_quarter_of_the_heads_and_half_the_ffn_equals_zeroing_them_and_runs_in_onnx_runtime_at_any_shape(string file)
    {
        using var model = Load(file);
        var sample = Inputs(model, 2, 7, 1);
        var dependencies = DependencyGraph.Build(model, Ordered(model, sample));
        var importance = new MagnitudeImportance(IncludeReads: true);
        var removed = ChannelSelection.Select(dependencies, importance, new ChannelPruningOptions { Unit = PruningUnit.Head, Ratio = 0.25 });
        foreach (var (group, channels) in ChannelSelection.Select(dependencies, importance, new ChannelPruningOptions { Ratio = 0.5 })) removed.Add(group, channels);
        Assert.Equal(2 * Layers, removed.Count);
        using var pruned = Surgery.Apply(dependencies, removed);
        pruned.eval();
        using var zeroed = new GraphModule(Surgery.ZeroedReaders(dependencies, removed));
        zeroed.eval();
        Assert.Equal(model.InputNames, pruned.InputNames);
        Assert.True(pruned.parameters().Sum(p => p.numel()) < model.parameters().Sum(p => p.numel()));

        using var folder = new TempFolder();
        string path = folder.File("pruned.onnx");
        OnnxFile.Save(pruned, path);
        using var runtime = new OnnxRuntimeRunner(path);
        foreach (var (batch, length, seed) in new[] { (2, 7, 1), (3, 12, 2), (1, 5, 3) })
        {
            var inputs = Inputs(model, batch, length, seed);
            using var _ = no_grad();
            var expected = zeroed.Run(Ordered(zeroed, inputs));
            var actual = pruned.Run(Ordered(pruned, inputs));
            var reference = runtime.Run(inputs);
            for (int k = 0; k < expected.Length; k++)
            {
                Assert.Equal(expected[k].shape, actual[k].shape);
                double difference = (expected[k] - actual[k]).abs().max().item<float>();
                Assert.True(difference <= 1e-5, $"{pruned.OutputNames[k]} at {batch}x{length}: shrunk and zeroed models differ by {difference}");
                var runtimeOutput = reference[pruned.OutputNames[k]];
                Assert.Equal(actual[k].shape, runtimeOutput.shape);
                double runtimeDifference = (runtimeOutput - actual[k]).abs().max().item<float>();
                Assert.True(runtimeDifference < 1e-4, $"{pruned.OutputNames[k]} at {batch}x{length}: ONNX Runtime and our executor differ by {runtimeDifference}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Exports))]
    public void The_hidden_size_prunes_approximately_when_the_outputs_may_narrow_and_runs_in_onnx_runtime(string file)
    {
        using var model = Load(file);
        var dependencies = DependencyGraph.Build(model, Ordered(model, Inputs(model, 2, 7, 1)), narrowOutputs: true);
        var hidden = Assert.Single(dependencies.Groups, g => !g.IsExact);
        Assert.Equal(Heads * HeadSize, hidden.Size);
        Assert.Empty(dependencies.Blocked);
        Assert.Contains(hidden.Approximations, a => a.Contains("narrows graph output 'sentence_embedding'"));
        var removed = ChannelSelection.Select(dependencies, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.25, Approximate = true, NarrowOutputs = true });
        Assert.Equal(8, removed[hidden.Id].Length);
        using var pruned = Surgery.Apply(dependencies, removed);
        pruned.eval();
        Assert.All(pruned.Graph.Outputs, o => Assert.Equal(24L, o.Shape![^1].Size));

        using var folder = new TempFolder();
        string path = folder.File("narrow.onnx");
        OnnxFile.Save(pruned, path);
        using var runtime = new OnnxRuntimeRunner(path);
        foreach (var (batch, length, seed) in new[] { (2, 7, 1), (3, 12, 2) })
        {
            var inputs = Inputs(model, batch, length, seed);
            using var _ = no_grad();
            var ours = pruned.Run(Ordered(pruned, inputs));
            var reference = runtime.Run(inputs);
            for (int k = 0; k < ours.Length; k++)
            {
                Assert.Equal(new long[] { batch }.Concat(k == 0 ? new long[] { length, 24 } : new long[] { 24 }), ours[k].shape);
                Assert.True((reference[pruned.OutputNames[k]] - ours[k]).abs().max().item<float>() < 1e-4);
            }
        }
    }

    [Fact]
    public void One_selection_with_a_channel_ratio_removes_what_separate_head_and_channel_selections_remove_and_steps_reach_the_same_widths()
    {
        using var model = Load("bert_tiny_opset14.onnx");
        var sample = Ordered(model, Inputs(model, 2, 7, 1));
        var dependencies = DependencyGraph.Build(model, sample, narrowOutputs: true);
        var importance = new MagnitudeImportance(IncludeReads: true);
        var expected = ChannelSelection.Select(dependencies, importance, new ChannelPruningOptions { Unit = PruningUnit.Head, Ratio = 0.25 });
        foreach (var (group, channels) in ChannelSelection.Select(dependencies, importance, new ChannelPruningOptions { Ratio = 0.5 })) expected.Add(group, channels);
        var hidden = dependencies.Groups.Single(g => !g.IsExact);
        expected.Add(hidden.Id, ChannelSelection.Select(dependencies, importance, new ChannelPruningOptions { Ratio = 0.25, Approximate = true })[hidden.Id]);

        var options = new ChannelPruningOptions { Unit = PruningUnit.Head, Ratio = 0.25, ChannelRatio = 0.5, ApproximateRatio = 0.25, Approximate = true, NarrowOutputs = true };
        var together = ChannelSelection.Select(dependencies, importance, options);
        Assert.Equal(expected.Keys.Order(), together.Keys.Order());
        foreach (var (group, channels) in expected) Assert.Equal(channels, together[group]);
        Assert.Equal(8, together[hidden.Id].Length); // a quarter of 32, not the FFN's half

        Assert.Contains("needs approximate pruning", Assert.Throws<ArgumentException>(() => ChannelSelection.Select(dependencies, importance, options with { Approximate = false })).Message);
        Assert.Contains("goes with head pruning", Assert.Throws<ArgumentException>(() => ChannelSelection.Select(dependencies, importance, options with { Unit = PruningUnit.Channel })).Message);

        foreach (int steps in new[] { 1, 2 })
        {
            var result = ChannelPruner.Prune(model, sample, importance, options, steps);
            using var pruned = result.Model;
            Assert.Equal(new[] { 3, 3 }, result.Groups.Where(g => g.Before == Heads).Select(g => g.After));
            Assert.Equal(new[] { 64, 64 }, result.Groups.Where(g => g.Before == Ffn).Select(g => g.After));
            Assert.Equal(24, result.Groups.Single(g => g.Approximations.Count > 0).After);
        }
    }
}
