using PruneSharp.Graph;
using PruneSharp.Tests.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Graph;

public class ParameterSummaryTests
{
    [Fact]
    public void Weights_are_listed_per_node_with_their_zero_fraction_and_state_is_left_out()
    {
        var graph = TestGraphs.SmallCnn();
        graph.Initializers["conv.weight"] = graph.Initializers["conv.weight"].clone();
        graph.Initializers["conv.weight"][0] = zeros(3, 3, 3); // one of four filters zeroed: 27 of 108 entries
        var layers = ParameterSummary.ByLayer(graph);
        Assert.Equal(new[] { "conv", "bn", "fc" }, layers.Select(l => l.Node));
        var conv = layers[0];
        Assert.Equal(new[] { "conv.weight", "conv.bias" }, conv.Tensors.Select(t => t.Name));
        Assert.Equal(108 + 4, conv.Count);
        Assert.Equal(27, conv.Tensors[0].Zeros);
        Assert.Equal(0.25, conv.Tensors[0].Sparsity);
        Assert.Equal(new[] { "bn.weight", "bn.bias" }, layers[1].Tensors.Select(t => t.Name)); // running statistics are state
        Assert.Equal(108 + 4 + 8 + 20 + 5, layers.Sum(l => l.Count));
    }

    [Fact]
    public void Weights_aliased_through_identity_nodes_are_listed_under_their_reader()
    {
        var graph = TestGraphs.SmallCnn();
        graph.Nodes[0].Inputs[2] = "conv.bias.alias";
        graph.Nodes.Insert(0, new Node("alias", "Identity", new[] { "conv.bias" }, new[] { "conv.bias.alias" }));
        var layers = ParameterSummary.ByLayer(graph);
        Assert.Equal(new[] { "conv", "bn", "fc" }, layers.Select(l => l.Node));
        Assert.Equal(new[] { "conv.weight", "conv.bias" }, layers[0].Tensors.Select(t => t.Name));
    }
}
