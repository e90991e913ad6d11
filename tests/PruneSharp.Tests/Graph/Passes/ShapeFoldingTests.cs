using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Graph.Passes;

/// <summary>A fact skipped, with the reason shown, until the executor runs every op it names.</summary>
public sealed class RequiresOpsFactAttribute : FactAttribute
{
    public RequiresOpsFactAttribute(params string[] ops)
    {
        var missing = ops.Except(OpRegistry.Default.SupportedOpTypes).ToList();
        if (missing.Count > 0) Skip = $"the executor does not run {string.Join(", ", missing)} yet";
    }
}

public class ShapeFoldingTests
{
    /// <summary>What torch.onnx writes for <c>x.view(x.size(0), -1)</c> at opset 13, after a ReLU.</summary>
    static PruneSharp.Graph.Graph ViewBatchFlatten()
    {
        var g = new PruneSharp.Graph.Graph { Name = "view", Opset = 13 };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { Dim.Named("batch"), (Dim)4, (Dim)3, (Dim)2 }));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { Dim.Named("batch"), (Dim)24 }));
        g.Initializers["zero"] = tensor(0L);
        g.Initializers["axes"] = tensor(new long[] { 0 });
        g.Initializers["minus_one"] = tensor(new long[] { -1 });
        g.Nodes.Add(new Node("relu", "Relu", new[] { "x" }, new[] { "r" }));
        g.Nodes.Add(new Node("shape", "Shape", new[] { "r" }, new[] { "s" }));
        g.Nodes.Add(new Node("gather", "Gather", new[] { "s", "zero" }, new[] { "b" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(0) }));
        g.Nodes.Add(new Node("unsqueeze", "Unsqueeze", new[] { "b", "axes" }, new[] { "b1" }));
        g.Nodes.Add(new Node("concat", "Concat", new[] { "b1", "minus_one" }, new[] { "target" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(0) }));
        g.Nodes.Add(new Node("reshape", "Reshape", new[] { "r", "target" }, new[] { "y" }));
        return g;
    }

    [RequiresOpsFact("Shape", "Gather", "Unsqueeze", "Concat")]
    public void The_batch_flatten_chain_becomes_a_constant_shape_that_copies_the_batch()
    {
        var graph = ViewBatchFlatten();
        using var before = new GraphModule(ViewBatchFlatten());
        Assert.Equal(1, ShapeFolding.Apply(graph));
        Assert.Equal(new[] { "Relu", "Reshape" }, graph.Nodes.Select(n => n.OpType));
        Assert.Equal(new long[] { 0, -1 }, graph.Initializers[graph.Nodes[1].Inputs[1]].data<long>().ToArray());
        Assert.Equal(new[] { graph.Nodes[1].Inputs[1] }, graph.Initializers.Keys);
        using var after = new GraphModule(graph);
        foreach (int batch in new[] { 1, 5 })
        {
            var x = randn(batch, 4, 3, 2);
            Assert.True(before.call(x).equal(after.call(x)).all().item<bool>());
        }
    }

    [RequiresOpsFact("Shape", "Gather", "Div", "Unsqueeze", "Slice")]
    public void Slice_bounds_computed_from_the_channel_count_become_constants()
    {
        // What torch.onnx writes for x.chunk(2, dim=1)'s first half without constant folding: ends = shape[1] / 2.
        PruneSharp.Graph.Graph Chunk()
        {
            var g = new PruneSharp.Graph.Graph { Name = "chunk", Opset = 13 };
            g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { Dim.Named("batch"), (Dim)6, (Dim)2 }));
            g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { Dim.Named("batch"), (Dim)3, (Dim)2 }));
            g.Initializers["one"] = tensor(1L);
            g.Initializers["two"] = tensor(2L);
            g.Initializers["axes"] = tensor(new long[] { 0 });
            g.Initializers["start"] = tensor(new long[] { 0 });
            g.Initializers["channel_axis"] = tensor(new long[] { 1 });
            g.Nodes.Add(new Node("relu", "Relu", new[] { "x" }, new[] { "r" }));
            g.Nodes.Add(new Node("shape", "Shape", new[] { "r" }, new[] { "s" }));
            g.Nodes.Add(new Node("gather", "Gather", new[] { "s", "one" }, new[] { "c" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(0) }));
            g.Nodes.Add(new Node("div", "Div", new[] { "c", "two" }, new[] { "half" }));
            g.Nodes.Add(new Node("unsqueeze", "Unsqueeze", new[] { "half", "axes" }, new[] { "end" }));
            g.Nodes.Add(new Node("slice", "Slice", new[] { "r", "start", "end", "channel_axis" }, new[] { "y" }));
            return g;
        }
        var graph = Chunk();
        Assert.Equal(1, ShapeFolding.Apply(graph));
        Assert.Equal(new[] { "Relu", "Slice" }, graph.Nodes.Select(n => n.OpType));
        Assert.Equal(new long[] { 3 }, graph.Initializers[graph.Nodes[1].Inputs[2]].data<long>().ToArray());
        using var before = new GraphModule(Chunk());
        using var after = new GraphModule(graph);
        foreach (int batch in new[] { 1, 5 })
        {
            var x = randn(batch, 6, 2);
            Assert.True(before.call(x).equal(after.call(x)).all().item<bool>());
        }
    }

    /// <summary>
    /// An attention-style scale computed from the width, y = x · C^-½ (Shape → Gather → Cast → Pow), next to a term
    /// computed from a weight and the width (w · C), which must stay.
    /// </summary>
    static PruneSharp.Graph.Graph ScaledByWidth()
    {
        var g = new PruneSharp.Graph.Graph { Name = "scale", Opset = 17 };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { Dim.Named("batch"), (Dim)6 }));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { Dim.Named("batch"), (Dim)6 }));
        g.Initializers["one"] = tensor(1L);
        g.Initializers["exponent"] = tensor(-0.5f);
        g.Initializers["w"] = tensor(new[] { 1f, 2f, 3f, 4f, 5f, 6f });
        g.Nodes.Add(new Node("shape", "Shape", new[] { "x" }, new[] { "s" }));
        g.Nodes.Add(new Node("width", "Gather", new[] { "s", "one" }, new[] { "c" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(0) }));
        g.Nodes.Add(new Node("cast", "Cast", new[] { "c" }, new[] { "cf" }, new Dictionary<string, AttributeValue> { ["to"] = AttributeValue.FromInt((long)DataType.Float) }));
        g.Nodes.Add(new Node("pow", "Pow", new[] { "cf", "exponent" }, new[] { "scale" }));
        g.Nodes.Add(new Node("weighted", "Mul", new[] { "w", "cf" }, new[] { "wc" }));
        g.Nodes.Add(new Node("mul", "Mul", new[] { "x", "scale" }, new[] { "xs" }));
        g.Nodes.Add(new Node("add", "Add", new[] { "xs", "wc" }, new[] { "y" }));
        return g;
    }

    [RequiresOpsFact("Shape", "Gather", "Cast", "Pow")]
    public void A_scale_computed_from_the_width_becomes_a_constant_but_arithmetic_with_a_weight_stays()
    {
        var graph = ScaledByWidth();
        var x = randn(new long[] { 3, 6 }, generator: new Generator(1));
        using var original = new GraphModule(ScaledByWidth());
        Assert.Equal(1, ShapeFolding.Apply(graph));
        var mul = graph.Nodes.Single(n => n.Name == "mul");
        Assert.Equal(1 / MathF.Sqrt(6), graph.Initializers[mul.Inputs[1]].item<float>(), 6);
        Assert.DoesNotContain(graph.Nodes, n => n.Name == "pow");
        Assert.Contains(graph.Nodes, n => n.Name == "weighted" && n.Inputs[1] == "cf"); // w · C reads a weight: not folded
        using var folded = new GraphModule(graph);
        using (no_grad()) Assert.True(folded.call(x).allclose(original.call(x)));
    }

    [RequiresOpsFact("Shape", "Gather", "Unsqueeze", "Concat")]
    public void A_shape_that_depends_on_values_is_left_alone()
    {
        var graph = ViewBatchFlatten();
        // The target's first entry now comes from the data (an input's contents), not from its shape.
        graph.Nodes[2] = new Node("gather", "Cast", new[] { "x" }, new[] { "b" });
        int nodes = graph.Nodes.Count;
        Assert.Equal(0, ShapeFolding.Apply(graph));
        Assert.Equal(nodes, graph.Nodes.Count);
    }

    [Fact]
    public void Graphs_without_computed_reshape_shapes_are_unchanged()
    {
        var graph = ViewBatchFlatten();
        graph.Nodes.RemoveRange(1, 4);
        graph.Initializers.Clear();
        graph.Initializers["target"] = tensor(new long[] { 0, -1 });
        Assert.Equal(0, ShapeFolding.Apply(graph));
        Assert.Equal(2, graph.Nodes.Count);
    }
}
