namespace PruneSharp.Graph.Passes;

/// <summary>
/// Gives every weight its own initializer. torch.onnx.export stores equal constants once and rebuilds the others with
/// Identity nodes (a freshly initialised network's BatchNorm scales are all ones, so <c>layer1.0.bn1.weight</c>
/// becomes <c>Identity(bn1.weight)</c>, and even a running mean may alias a bias). Trained separately or pruned
/// separately, those weights must not share storage, so each Identity of an initializer becomes a copy named after
/// its output, which also restores the readable parameter name.
/// </summary>
public static class InitializerCopies
{
    /// <summary>Replaces Identity nodes that copy an initializer with initializers of their own; returns how many.</summary>
    public static int Materialize(Graph graph)
    {
        var graphValues = graph.Inputs.Concat(graph.Outputs).Select(v => v.Name).ToHashSet();
        int count = 0;
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int i = 0; i < graph.Nodes.Count; i++)
            {
                var node = graph.Nodes[i];
                if (node.OpType != "Identity" || node.Domain is not ("" or "ai.onnx") || node.Inputs.Count != 1 || node.Outputs.Count != 1) continue;
                string source = node.Inputs[0], copy = node.Outputs[0];
                if (!graph.Initializers.TryGetValue(source, out var value) || graphValues.Contains(copy) || graph.Initializers.ContainsKey(copy)) continue;
                graph.Initializers[copy] = value.clone();
                graph.Nodes.RemoveAt(i--);
                count++;
                changed = true;
            }
        }
        return count;
    }
}
