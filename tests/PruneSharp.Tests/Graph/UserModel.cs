using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Graph;

/// <summary>
/// A model as a user exports it: input normalisation inside the graph (Sub/Div by initializers), a first convolution
/// with one input channel, and every layout a linear map comes in: Gemm with transB=1 ([out, in]), Gemm with transB=0
/// and MatMul (both [in, out], the MatMul's bias an Add after it), then a Gemm classifier.
/// </summary>
static class UserModel
{
    public const float Mean = 0.2860f, Std = 0.3530f;

    /// <summary>Builds the graph for [N, 1, size, size] images and <paramref name="classes"/> classes.</summary>
    public static PruneSharp.Graph.Graph Build(long size = 4, int classes = 3, bool normalisation = true, long seed = 1)
    {
        manual_seed(seed);
        var b = new GraphBuilder("user", seed);
        var x = b.Input("input", null, 1, size, size);
        var graph = b.Graph;
        if (normalisation)
        {
            graph.Initializers["mean"] = full(new long[] { 1, 1, 1, 1 }, Mean);
            graph.Initializers["std"] = full(new long[] { 1, 1, 1, 1 }, Std);
            graph.Nodes.Add(new Node("sub", "Sub", new[] { "input", "mean" }, new[] { "centred" }));
            graph.Nodes.Add(new Node("div", "Div", new[] { "centred", "std" }, new[] { "normalised" }));
            x = new GraphBuilder.Value("normalised", x.Shape);
        }
        var c1 = b.Relu(b.Conv2d(x, 8, 3, "conv1", padding: 1));
        var c2 = b.Relu(b.Conv2d(c1, 8, 3, "conv2", padding: 1));
        var features = b.Flatten(b.GlobalAvgPool(c2));
        var fc1 = b.Relu(b.Linear(features, 16, "fc1"));
        graph.Initializers["fc2.weight"] = randn(16, 8) * 0.3;
        graph.Nodes.Add(new Node("fc2", "Gemm", new[] { fc1.Name, "fc2.weight" }, new[] { "fc2" }));
        graph.Initializers["fc3.weight"] = randn(8, 12) * 0.3;
        graph.Initializers["fc3.bias"] = zeros(12);
        graph.Nodes.Add(new Node("fc3.matmul", "MatMul", new[] { "fc2", "fc3.weight" }, new[] { "fc3.matmul" }));
        graph.Nodes.Add(new Node("fc3", "Add", new[] { "fc3.matmul", "fc3.bias" }, new[] { "fc3" }));
        var head = b.Linear(b.Relu(new GraphBuilder.Value("fc3", new long?[] { null, 12 })), classes, "head");
        b.Output(head, "logits");
        return graph;
    }
}
