using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

/// <summary>
/// Head and block pruning on a transformer block exported by torch.onnx (Fixtures/make_transformer_block.py): the
/// exporter writes the head reshapes' targets as Shape → Gather → Unsqueeze → Concat chains.
/// </summary>
public class TransformerExportTests
{
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures", "transformer_block.onnx");

    static GraphModule Load(bool foldShapes)
    {
        var graph = OnnxFile.Read(Fixture);
        InitializerCopies.Materialize(graph);
        if (foldShapes) Assert.Equal(4, ShapeFolding.Apply(graph)); // three head splits and the join
        var module = new GraphModule(graph);
        module.eval();
        return module;
    }

    static Tensor Input(int batch = 3) => randn(new long[] { batch, 5, 24 }, generator: new Generator(4));

    [Fact]
    public void Heads_behind_computed_reshape_targets_are_left_out_until_the_shape_arithmetic_is_folded()
    {
        using var raw = Load(foldShapes: false);
        var dependencies = DependencyGraph.Build(raw, new[] { Input(1) });
        Assert.Empty(AttentionHeads.Find(dependencies));
        Assert.Contains(dependencies.Blocked, b => b.Producers.Contains("/q/MatMul") && b.Reasons.Any(r => r.Contains("computed at run time")));

        using var folded = Load(foldShapes: true);
        var attention = Assert.Single(AttentionHeads.Find(DependencyGraph.Build(folded, new[] { Input(1) })));
        Assert.Equal((4, 6), (attention.Heads, attention.HeadSize));
        Assert.Equal(new[] { "/k/MatMul", "/q/MatMul", "/v/MatMul" }, attention.Projections.Order());
        Assert.Equal(new[] { "/o/MatMul" }, attention.OutputProjections);
    }

    [Fact]
    public void Removing_heads_of_the_exported_block_equals_zeroing_their_output_rows_and_runs_in_onnx_runtime()
    {
        using var model = Load(foldShapes: true);
        var x = Input();
        using var pruned = StructuredEquivalence.PruneAndCheck(model, x, new MagnitudeImportance(IncludeReads: true),
            new ChannelPruningOptions { Unit = PruningUnit.Head, Ratio = 0.5 });
        var o = pruned.Graph.Nodes.Single(n => n.Name == "/o/MatMul");
        Assert.Equal(new long[] { 12, 24 }, pruned.Weights()[o.Inputs[1]].shape);
        AttentionHeadTests.AgreesWithOnnxRuntime(pruned, new Dictionary<string, Tensor> { ["x"] = x });
    }

    [Fact]
    public void The_attention_and_mlp_branches_are_residual_blocks_and_dropping_one_runs_in_onnx_runtime()
    {
        using var model = Load(foldShapes: true);
        var x = Input();
        var blocks = ResidualBlocks.Find(model, new[] { x[..1] });
        Assert.Equal(2, blocks.Count);
        Assert.Equal("x", blocks[0].Input);
        Assert.Contains("/ln1/LayerNormalization", blocks[0].Nodes);
        Assert.Contains("/fc/MatMul", blocks[1].Nodes);
        using var pruned = BlockSurgery.Remove(model, new[] { blocks[1] });
        pruned.eval();
        var graph = model.ToGraph();
        var projection = graph.Nodes.Single(n => n.Name == "/proj/MatMul");
        graph.Initializers[projection.Inputs[1]] = zeros_like(graph.Initializers[projection.Inputs[1]]);
        graph.Initializers["proj.bias"] = zeros_like(graph.Initializers["proj.bias"]);
        using var zeroed = new GraphModule(graph);
        zeroed.eval();
        using (no_grad()) Assert.True((zeroed.call(x) - pruned.call(x)).abs().max().item<float>() < 1e-5);
        AttentionHeadTests.AgreesWithOnnxRuntime(pruned, new Dictionary<string, Tensor> { ["x"] = x });
    }
}
