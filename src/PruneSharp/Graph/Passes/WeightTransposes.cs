using static TorchSharp.torch;

namespace PruneSharp.Graph.Passes;

/// <summary>
/// Stores weights that a graph transposes at run time as their transpose. Exporters that do not fold constants
/// (PyTorch's training-mode export) write a linear layer as <c>MatMul(x, Transpose(W))</c>, which hides from the
/// channel analysis that the MatMul multiplies by a weight; with Wᵀ stored under the Transpose's output name, it sees
/// one. Only a floating-point initializer that the Transpose alone reads changes: a weight shared with another reader
/// (an embedding table tied to the output head) stays as it is, and so do graph inputs and outputs.
/// </summary>
public static class WeightTransposes
{
    /// <summary>Replaces each Transpose of a weight read by nothing else with the transposed weight; returns how many.</summary>
    public static int Materialize(Graph graph)
    {
        var readers = graph.Nodes.SelectMany(n => n.Inputs).Where(n => n.Length > 0).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        var graphValues = graph.Inputs.Concat(graph.Outputs).Select(v => v.Name).ToHashSet();
        int count = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (node.OpType != "Transpose" || node.Domain is not ("" or "ai.onnx") || node.Inputs.Count != 1 || node.Outputs.Count != 1) continue;
            string source = node.Inputs[0], result = node.Outputs[0];
            if (!graph.Initializers.TryGetValue(source, out var weight) || !weight.is_floating_point() || readers[source] != 1
                || graphValues.Contains(source) || graphValues.Contains(result) || graph.Initializers.ContainsKey(result)) continue;
            long[] perm = node.GetInts("perm")?.ToArray() ?? Enumerable.Range(0, (int)weight.dim()).Reverse().Select(d => (long)d).ToArray();
            graph.Initializers[result] = weight.permute(perm).contiguous();
            graph.Initializers.Remove(source);
            graph.Nodes.Remove(node);
            count++;
        }
        return count;
    }
}
