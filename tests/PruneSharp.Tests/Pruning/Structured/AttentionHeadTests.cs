using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

public class AttentionHeadTests
{
    static readonly ChannelPruningOptions HalfTheHeads = new() { Unit = PruningUnit.Head, Ratio = 0.5 };

    [Theory]
    [InlineData(2, 2, 16, true)]
    [InlineData(1, 4, 32, false)]
    [InlineData(3, 8, 48, true)]
    [InlineData(2, 3, 24, false)]
    public void Tiny_gpt_heads_are_found_and_removing_them_equals_zeroing_their_output_projection_rows(int layers, int heads, int width, bool bias)
    {
        using var model = TinyGpt.Create(new TinyGptOptions(VocabularySize: 40, ContextLength: 12, Layers: layers, Heads: heads, Width: width, Seed: layers, Bias: bias));
        var ids = randint(0, 40, new long[] { 2, 9 }, generator: new Generator(7), dtype: int64);
        var graph = DependencyGraph.Build(model, new[] { ids });
        var found = AttentionHeads.Find(graph);
        Assert.Equal(layers, found.Count);
        string Matmul(int layer, string projection) => bias ? $"blocks.{layer}.attn.{projection}.matmul" : $"blocks.{layer}.attn.{projection}";
        for (int layer = 0; layer < layers; layer++)
        {
            var attention = found[layer];
            Assert.Equal((heads, width / heads), (attention.Heads, attention.HeadSize));
            Assert.Equal(new[] { "q", "k", "v" }.Select(p => Matmul(layer, p)).Order(), attention.Projections.Order());
            Assert.Equal(new[] { Matmul(layer, "o") }, attention.OutputProjections);
        }

        using var pruned = StructuredEquivalence.PruneAndCheck(model, ids, new MagnitudeImportance(IncludeReads: true), HalfTheHeads);
        int kept = heads - (int)Math.Round(0.5 * heads), headSize = width / heads;
        Assert.Equal(new long[] { width, kept * headSize }, pruned.get_parameter("blocks.0.attn.q.weight")!.shape);
        Assert.Equal(new long[] { kept * headSize, width }, pruned.get_parameter("blocks.0.attn.o.weight")!.shape);
        if (bias) Assert.Equal(new long[] { kept * headSize }, pruned.get_parameter("blocks.0.attn.v.bias")!.shape);
        // The MLP is not touched when heads are the unit.
        Assert.Equal(new long[] { width, 4 * width }, pruned.get_parameter("blocks.0.mlp.fc.weight")!.shape);
        var after = AttentionHeads.Find(DependencyGraph.Build(pruned, new[] { ids }));
        Assert.All(after, a => Assert.Equal((kept, headSize), (a.Heads, a.HeadSize)));
    }

    [Fact]
    public void Heads_are_pruned_through_the_channel_pruner_and_the_shrunk_model_runs_in_onnx_runtime()
    {
        using var model = TinyGpt.Create(new TinyGptOptions(VocabularySize: 50, ContextLength: 16, Layers: 2, Heads: 4, Width: 32, Seed: 3));
        model.eval();
        var ids = randint(0, 50, new long[] { 3, 11 }, generator: new Generator(1), dtype: int64);
        var result = ChannelPruner.Prune(model, new[] { ids[..1] }, new RandomImportance(5), HalfTheHeads with { Ratio = 0.25 });
        using var pruned = result.Model;
        Assert.All(result.Groups.Where(g => g.Producers.Any(p => p.Contains(".attn.q"))), g => Assert.Equal((4, 3), (g.Before, g.After)));
        // Per layer and token, a head of 8 takes 3·32·8 MACs from the q, k, v projections and 8·32 from the output
        // projection; q·kᵀ and weights·v lose 2·T·8 more.
        const long tokens = 11, perLayer = tokens * (3 * 32 * 8 + 8 * 32) + 2 * tokens * tokens * 8;
        Assert.Equal(2 * perLayer, MacCounter.Measure(model, new[] { ids[..1] }).DenseMacs - MacCounter.Measure(pruned, new[] { ids[..1] }).DenseMacs);
        Assert.Equal(result.DenseMacs - 2 * perLayer, result.PrunedMacs);
        AgreesWithOnnxRuntime(pruned, new Dictionary<string, Tensor> { ["input_ids"] = ids });
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_exported_style_attention_block_with_gemm_projections_and_a_padding_mask_loses_whole_heads(bool biasedOutput)
    {
        const int batch = 2, length = 5, width = 24, heads = 4;
        using var model = ExportStyleAttention(batch, length, width, heads, biasedOutput);
        using var generator = new Generator(11);
        var x = randn(new long[] { batch, length, width }, generator: generator);
        var mask = tensor(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, -1e4f, -1e4f }).reshape(batch, 1, 1, length); // padding in sequence 2
        model.eval();
        var graph = DependencyGraph.Build(model, new[] { x, mask });
        var attention = Assert.Single(AttentionHeads.Find(graph));
        Assert.Equal((heads, width / heads), (attention.Heads, attention.HeadSize));
        Assert.Equal(new[] { "out" }, attention.OutputProjections);

        var removed = ChannelSelection.Select(graph, new MagnitudeImportance(P: 1), HalfTheHeads);
        Assert.Equal(2, removed[attention.Group].Length);
        using var pruned = Surgery.Apply(graph, removed);
        pruned.eval();
        using var zeroed = new GraphModule(model.ToGraph());
        zeroed.eval();
        using (no_grad())
        {
            // The output projection is a Gemm with weight [out, in]: a head's inputs are 6 of its columns.
            var weight = zeroed.get_parameter("out.weight")!;
            foreach (int head in removed[attention.Group]) weight[.., TensorIndex.Slice(head * 6, head * 6 + 6)] = tensor(0f);
            var expected = zeroed.Run(new[] { x, mask })[0];
            var actual = pruned.Run(new[] { x, mask })[0];
            Assert.True((expected - actual).abs().max().item<float>() < 1e-5);
            Assert.True((model.Run(new[] { x, mask })[0] - actual).abs().max().item<float>() > 1e-3, "removing heads should change the outputs");
        }
        // The targets that spelled out H (split) and H·d (join) follow the removal.
        var split = ReshapeTarget(pruned, "q.split");
        Assert.Equal(new long[] { batch, length, heads - 2, width / heads }, split);
        Assert.Equal(new long[] { batch * length, width / 2 }, ReshapeTarget(pruned, "join"));
        AgreesWithOnnxRuntime(pruned, new Dictionary<string, Tensor> { ["x"] = x, ["mask"] = mask });
    }

    [Fact]
    public void Head_criteria_score_all_of_a_heads_slices()
    {
        using var model = TinyGpt.Create(new TinyGptOptions(VocabularySize: 30, ContextLength: 8, Layers: 1, Heads: 3, Width: 12, Seed: 6));
        var ids = randint(0, 30, new long[] { 2, 8 }, generator: new Generator(2), dtype: int64);
        var group = DependencyGraph.Build(model, new[] { ids }).Groups.Single(g => g.IsHeads);
        // Head h as one vector: its 4 columns of q, k and v, then its 4 rows of the output projection.
        Tensor Head(int h, bool reads) => cat(new[] { "q", "k", "v" }.Select(p => model.get_parameter($"blocks.0.attn.{p}.weight")![.., TensorIndex.Slice(4 * h, 4 * h + 4)].flatten())
            .Concat(reads ? new[] { model.get_parameter("blocks.0.attn.o.weight")![TensorIndex.Slice(4 * h, 4 * h + 4)].flatten() } : Array.Empty<Tensor>()).ToList()).to_type(ScalarType.Float64);
        var l1 = new MagnitudeImportance(P: 1, IncludeReads: true).Score(group, model);
        var fpgm = new FpgmImportance().Score(group, model);
        nn.functional.cross_entropy(model.call(ids).flatten(0, 1), ids.flatten()).backward();
        var taylor = new TaylorImportance().Score(group, model);
        double GradientTimesWeight(int h) => new[] { "q", "k", "v" }.Sum(p =>
        {
            var (w, b) = (model.get_parameter($"blocks.0.attn.{p}.weight")!, model.get_parameter($"blocks.0.attn.{p}.bias")!);
            var columns = TensorIndex.Slice(4 * h, 4 * h + 4);
            return (w.grad![.., columns] * w[.., columns]).sum().item<float>() + (double)(b.grad![columns] * b[columns]).sum().item<float>();
        });
        for (int h = 0; h < 3; h++)
        {
            Assert.Equal(Head(h, reads: true).abs().sum().item<double>(), l1[h].item<double>(), 5);
            double distances = Enumerable.Range(0, 3).Sum(j => (Head(h, false) - Head(j, false)).norm().item<double>());
            Assert.Equal(distances, fpgm[h].item<double>(), 5);
            double expected = Math.Pow(GradientTimesWeight(h), 2);
            Assert.True(expected > 0 && Math.Abs(expected - taylor[h].item<double>()) <= 1e-4 * expected, $"head {h}: Taylor {taylor[h].item<double>()}, expected {expected}");
        }
    }

    [Fact]
    public void A_head_split_whose_target_is_computed_at_run_time_is_left_out_with_the_reason()
    {
        const int width = 16, heads = 2;
        var b = new GraphBuilder("computed", seed: 2);
        var x = b.Input("x", 1, 3, width);
        var q = b.Linear(x, width, "q");
        b.Output(b.Linear(q, width, "out"), "y");
        var graph = b.Graph;
        // Replace nothing but the shape: Reshape(q, Concat(Shape(q)[0:2], [heads, d])) then join back with a constant.
        graph.Nodes.Add(new Node("q.dims", "Shape", new[] { q.Name }, new[] { "q.dims" }, new Dictionary<string, AttributeValue> { ["end"] = AttributeValue.FromInt(2) }));
        graph.Initializers["heads"] = tensor(new long[] { heads, width / heads });
        graph.Nodes.Add(new Node("q.target", "Concat", new[] { "q.dims", "heads" }, new[] { "q.target" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(0) }));
        graph.Nodes.Add(new Node("q.split", "Reshape", new[] { q.Name, "q.target" }, new[] { "q.split" }));
        graph.Initializers["joined"] = tensor(new long[] { 1, 3, width });
        graph.Nodes.Add(new Node("join", "Reshape", new[] { "q.split", "joined" }, new[] { "joined.out" }));
        graph.Nodes.Single(n => n.Name == "out.matmul").Inputs[0] = "joined.out";
        using var model = new GraphModule(graph);
        var dependencies = DependencyGraph.Build(model, new[] { randn(1, 3, width) });
        Assert.Empty(AttentionHeads.Find(dependencies));
        var blocked = Assert.Single(dependencies.Blocked, g => g.Producers.Contains("q.matmul"));
        Assert.Contains(blocked.Reasons, r => r.Contains("computed at run time"));
    }

    /// <summary>
    /// Attention as exporters write it: x [B, T, C] flattened to [B·T, C], Gemm projections, Reshape to [B, T, H, d]
    /// with spelled-out sizes, Transpose, q·kᵀ, scaling, an additive padding mask (a second input), Softmax, ·v,
    /// Transpose back, Reshape to [B·T, C] and a Gemm output projection.
    /// </summary>
    static GraphModule ExportStyleAttention(int batch, int length, int width, int heads, bool biasedOutput)
    {
        int headSize = width / heads;
        var b = new GraphBuilder("attention", seed: 4);
        var x = b.Input("x", batch, length, width);
        var mask = b.Input("mask", batch, 1, 1, length);
        var rows = b.Reshape(x, new long[] { batch * length, width }, "rows");
        GraphBuilder.Value Heads(string name, long[] perm) =>
            b.Transpose(b.Reshape(b.Linear(rows, width, name), new long[] { batch, length, heads, headSize }, $"{name}.split"), perm, $"{name}.heads");
        var q = Heads("q", new long[] { 0, 2, 1, 3 });
        var k = Heads("k", new long[] { 0, 2, 3, 1 });
        var v = Heads("v", new long[] { 0, 2, 1, 3 });
        var scores = b.Add(b.Scale(b.MatMul(q, k, "scores"), 1f / MathF.Sqrt(headSize), "scale"), mask, "masked");
        var context = b.MatMul(b.Softmax(scores, -1, "softmax"), v, "context");
        var joined = b.Reshape(b.Transpose(context, new long[] { 0, 2, 1, 3 }, "merge"), new long[] { batch * length, width }, "join");
        var output = b.Linear(joined, width, "out", bias: biasedOutput);
        b.Output(b.Reshape(output, new long[] { batch, length, width }, "unrows"), "y");
        return b.Build();
    }

    static long[] ReshapeTarget(GraphModule module, string reshape)
    {
        var node = module.Graph.Nodes.Single(n => n.Name == reshape);
        return module.Weights().TryGetValue(node.Inputs[1], out var value) ? value.data<long>().ToArray()
            : module.Graph.Nodes.Single(n => n.Outputs.Contains(node.Inputs[1])).GetTensor("value")!.data<long>().ToArray();
    }

    internal static void AgreesWithOnnxRuntime(GraphModule module, Dictionary<string, Tensor> inputs)
    {
        using var folder = new TempFolder();
        string path = folder.File("pruned.onnx");
        OnnxFile.Save(module, path);
        using var runtime = new OnnxRuntimeRunner(path);
        var reference = runtime.Run(inputs)[module.OutputNames[0]];
        module.eval();
        using var _ = no_grad();
        var ours = module.Run(module.InputNames.Select(n => inputs[n]).ToList())[0];
        Assert.Equal(reference.shape, ours.shape);
        double difference = (reference - ours).abs().max().item<float>();
        Assert.True(difference < 1e-4, $"ONNX Runtime and our executor differ by {difference}");
    }
}
