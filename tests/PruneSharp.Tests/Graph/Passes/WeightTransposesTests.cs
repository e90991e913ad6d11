using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Graph.Passes;

public class WeightTransposesTests
{
    /// <summary>What a training-mode export writes for two linear layers: y = relu(x · W1ᵀ) · W2ᵀ.</summary>
    static PruneSharp.Graph.Graph TransposedLinears()
    {
        var generator = new Generator(3);
        var g = new PruneSharp.Graph.Graph { Name = "linears", Opset = 17 };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { Dim.Named("batch"), (Dim)5 }));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { Dim.Named("batch"), (Dim)3 }));
        g.Initializers["fc1.weight"] = randn(new long[] { 8, 5 }, generator: generator);
        g.Initializers["fc2.weight"] = randn(new long[] { 3, 8 }, generator: generator);
        g.Nodes.Add(new Node("t1", "Transpose", new[] { "fc1.weight" }, new[] { "w1t" }, new Dictionary<string, AttributeValue> { ["perm"] = AttributeValue.FromInts(new long[] { 1, 0 }) }));
        g.Nodes.Add(new Node("fc1", "MatMul", new[] { "x", "w1t" }, new[] { "h" }));
        g.Nodes.Add(new Node("relu", "Relu", new[] { "h" }, new[] { "r" }));
        g.Nodes.Add(new Node("t2", "Transpose", new[] { "fc2.weight" }, new[] { "w2t" })); // default perm: reversed axes
        g.Nodes.Add(new Node("fc2", "MatMul", new[] { "r", "w2t" }, new[] { "y" }));
        return g;
    }

    [Fact]
    public void Weights_transposed_at_run_time_are_stored_transposed_and_the_hidden_layer_becomes_prunable()
    {
        var x = randn(new long[] { 4, 5 }, generator: new Generator(1));
        using var before = new GraphModule(TransposedLinears());
        Assert.Empty(DependencyGraph.Build(before, new[] { x }).Groups);

        var graph = TransposedLinears();
        Assert.Equal(2, WeightTransposes.Materialize(graph));
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "Transpose");
        Assert.Equal(new long[] { 5, 8 }, graph.Initializers["w1t"].shape);
        Assert.False(graph.Initializers.ContainsKey("fc1.weight"));
        using var after = new GraphModule(graph);
        using (no_grad()) Assert.True(after.call(x).allclose(before.call(x)));
        var group = Assert.Single(DependencyGraph.Build(after, new[] { x }).Groups);
        Assert.Equal(8, group.Size);
    }

    [Fact]
    public void A_weight_that_something_else_also_reads_stays_as_it_is()
    {
        var graph = TransposedLinears();
        graph.Nodes.Add(new Node("norm", "ReduceSum", new[] { "fc1.weight" }, new[] { "s" }));
        graph.Outputs.Add(new ValueInfo("s", DataType.Float, null));
        Assert.Equal(1, WeightTransposes.Materialize(graph)); // fc2 only
        Assert.Contains(graph.Nodes, n => n.Name == "t1");
        Assert.True(graph.Initializers.ContainsKey("fc1.weight"));
    }
}
