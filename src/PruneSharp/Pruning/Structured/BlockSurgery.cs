using PruneSharp.Graph;
using PruneSharp.Ops;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Removes residual blocks: each block's branch nodes and its Add go, and whatever read the Add's output y reads the
/// block's input x instead (y := x); weights and constants that only the removed nodes read go too. A block nested in
/// another removed block goes with it.
/// </summary>
public static class BlockSurgery
{
    /// <summary>A new, smaller module without <paramref name="blocks"/> (found in <paramref name="module"/> by <see cref="ResidualBlocks.Find"/>).</summary>
    /// <exception cref="ArgumentException">A block does not belong to the module.</exception>
    public static GraphModule Remove(GraphModule module, IReadOnlyCollection<ResidualBlock> blocks, OpRegistry? registry = null)
    {
        var graph = module.ToGraph();
        var byName = graph.Nodes.ToDictionary(n => n.Name);
        foreach (var block in blocks)
            if (!byName.TryGetValue(block.Add, out var add) || add.OpType != "Add" || !add.Inputs.Contains(block.Input)
                || !add.Inputs.Contains(block.Branch) || add.Outputs[0] != block.Output || block.Nodes.Any(n => !byName.ContainsKey(n)))
                throw new ArgumentException($"residual block '{block.Add}' is not a block of model '{graph.Name}'");

        var unread = UnreadValues.Of(graph);
        var replaced = blocks.ToDictionary(b => b.Output, b => b.Input);
        string Resolve(string value)
        {
            while (replaced.TryGetValue(value, out var input)) value = input;
            return value;
        }
        var removed = blocks.SelectMany(b => b.Nodes.Append(b.Add)).ToHashSet();
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            if (removed.Contains(node.Name))
            {
                // A block whose output is a graph output keeps the name with an Identity.
                if (graphOutputs.Contains(node.Outputs[0]) && replaced.ContainsKey(node.Outputs[0]))
                    graph.Nodes[i] = new Node(node.Name, "Identity", new[] { Resolve(node.Outputs[0]) }, node.Outputs);
                else graph.Nodes.RemoveAt(i--);
                continue;
            }
            var inputs = node.Inputs.Select(v => v.Length == 0 ? v : Resolve(v)).ToList();
            if (!inputs.SequenceEqual(node.Inputs)) // nodes are shared with the original graph: rewire a copy
                graph.Nodes[i] = new Node(node.Name, node.OpType, inputs, node.Outputs, node.Attributes, node.Domain);
        }
        UnreadValues.RemoveNew(graph, unread);
        var produced = graph.Nodes.SelectMany(n => n.Outputs).ToHashSet();
        foreach (string value in graph.ValueInfos.Keys.Where(v => !produced.Contains(v)).ToList()) graph.ValueInfos.Remove(value);

        var result = new GraphModule(graph, registry);
        result.train(module.training);
        return result;
    }
}
