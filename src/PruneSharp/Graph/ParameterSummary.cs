using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Graph;

/// <summary>One weight tensor: its name, shape, size and how many of its entries are zero.</summary>
/// <param name="Name">The initializer's name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Count">Its number of entries.</param>
/// <param name="Zeros">How many entries are exactly zero.</param>
public sealed record ParameterTensor(string Name, IReadOnlyList<long> Shape, DataType ElementType, long Count, long Zeros)
{
    /// <summary>The fraction of entries that are zero (0 for an empty tensor).</summary>
    public double Sparsity => Count == 0 ? 0 : (double)Zeros / Count;
}

/// <summary>The weights one node reads.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="OpType">The node's op type.</param>
/// <param name="Tensors">Its weight tensors, in input order.</param>
public sealed record LayerParameters(string Node, string OpType, IReadOnlyList<ParameterTensor> Tensors)
{
    /// <summary>Entries in all of the node's weights.</summary>
    public long Count => Tensors.Sum(t => t.Count);
    /// <summary>Zero entries in all of the node's weights.</summary>
    public long Zeros => Tensors.Sum(t => t.Zeros);
    /// <summary>The fraction of the node's weight entries that are zero.</summary>
    public double Sparsity => Count == 0 ? 0 : (double)Zeros / Count;
}

/// <summary>
/// Which nodes hold weights, and how sparse they are. A weight is a floating-point initializer that is not op state
/// (BatchNorm's running statistics are state), the same split <see cref="GraphModule"/> makes into parameters and
/// buffers. A weight read by several nodes is listed under the first. Exporters alias shared constants through
/// <c>Identity</c> nodes (torch.onnx does for deduplicated biases); a weight is listed under the node that reads the alias.
/// </summary>
public static class ParameterSummary
{
    /// <summary>The nodes that read weights, in graph order.</summary>
    public static IReadOnlyList<LayerParameters> ByLayer(Graph graph, OpRegistry? registry = null)
    {
        registry ??= OpRegistry.Default;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var layers = new List<LayerParameters>();
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            if (node.OpType == "Identity" && node.Inputs.Count == 1 && node.Outputs.Count == 1 && graph.Initializers.ContainsKey(node.Inputs[0]))
                aliases[node.Outputs[0]] = node.Inputs[0];
        foreach (var node in graph.Nodes)
        {
            if (node.OpType == "Identity" && aliases.ContainsKey(node.Outputs[0])) continue;
            OpFamily? family = FamilyOrNull(registry, node, graph.Opset);
            var tensors = new List<ParameterTensor>();
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                string name = aliases.GetValueOrDefault(node.Inputs[i], node.Inputs[i]);
                if (!graph.Initializers.TryGetValue(name, out var value) || !value.dtype.ToDataType().IsFloatingPoint()) continue;
                if (family != null && family.IsStateInput(node, i)) continue;
                if (!seen.Add(name)) continue;
                using var zeros = value.eq(0).sum();
                tensors.Add(new ParameterTensor(name, value.shape, value.dtype.ToDataType(), value.numel(), zeros.item<long>()));
            }
            if (tensors.Count > 0) layers.Add(new LayerParameters(node.Name, node.OpType, tensors));
        }
        return layers;
    }

    /// <summary>Ops the executor does not run are still listed; all their floating-point initializers count as weights.</summary>
    static OpFamily? FamilyOrNull(OpRegistry registry, Node node, int opset)
    {
        try
        {
            return registry.Find(node, opset);
        }
        catch (UnsupportedOpException)
        {
            return null;
        }
    }
}
