using TorchSharp;

namespace PruneSharp.Graph;

/// <summary>
/// A model graph: nodes, graph inputs and outputs, initializers (named constant tensors: weights and other
/// constants) and the known types and shapes of intermediate values. This is the plain intermediate
/// representation that ONNX import/export and the builder produce; <see cref="GraphModule"/> runs and trains it.
/// </summary>
public sealed class Graph
{
    /// <summary>The graph's name.</summary>
    public string Name { get; set; } = "graph";
    /// <summary>The default-domain opset version the nodes follow.</summary>
    public int Opset { get; set; } = 17;
    /// <summary>
    /// The default-domain opset of the file the graph was read from when it was older and upgraded on import
    /// (<see cref="Onnx.Opsets.OpsetConversion"/>); null when the graph follows its file's opset.
    /// </summary>
    public int? SourceOpset { get; set; }
    /// <summary>Nodes, in file order (not necessarily topological).</summary>
    public List<Node> Nodes { get; } = new();
    /// <summary>Graph inputs fed by the caller (initializers are not listed here).</summary>
    public List<ValueInfo> Inputs { get; } = new();
    /// <summary>Graph outputs.</summary>
    public List<ValueInfo> Outputs { get; } = new();
    /// <summary>Named constant tensors, in insertion order.</summary>
    public Dictionary<string, torch.Tensor> Initializers { get; } = new();
    /// <summary>Known types and shapes of intermediate values.</summary>
    public Dictionary<string, ValueInfo> ValueInfos { get; } = new();
    /// <summary>Free-form model metadata (producer, doc string, ...), kept through import and export.</summary>
    public Dictionary<string, string> Metadata { get; } = new();

    /// <summary>
    /// A copy that shares this graph's nodes, inputs, outputs, value infos and metadata (the lists and dictionaries
    /// are new, their entries the same) and has no initializers yet: the caller fills them, e.g. with current weights.
    /// </summary>
    public Graph WithoutInitializers()
    {
        var copy = new Graph { Name = Name, Opset = Opset, SourceOpset = SourceOpset };
        copy.Nodes.AddRange(Nodes);
        copy.Inputs.AddRange(Inputs);
        copy.Outputs.AddRange(Outputs);
        foreach (var (k, v) in ValueInfos) copy.ValueInfos[k] = v;
        foreach (var (k, v) in Metadata) copy.Metadata[k] = v;
        return copy;
    }

    /// <summary>
    /// The value of <paramref name="name"/> when it is fixed before any input arrives: an initializer, or the output of a
    /// <c>Constant</c> node (its <c>value</c> or <c>value_ints</c>); null if it is computed.
    /// </summary>
    public torch.Tensor? ConstantValue(string name)
    {
        if (Initializers.TryGetValue(name, out var value)) return value;
        var node = Nodes.FirstOrDefault(n => n.OpType == "Constant" && n.Outputs.Contains(name));
        return node?.GetTensor("value") ?? (node?.GetInts("value_ints") is { } ints ? torch.tensor(ints.ToArray()) : null);
    }

    /// <summary>
    /// The nodes in an order where every value is produced before it is used (stable: ties keep file order).
    /// </summary>
    /// <exception cref="GraphException">A value is used but never produced, produced twice, or the graph has a cycle.</exception>
    public IReadOnlyList<Node> TopologicalOrder()
    {
        var available = new HashSet<string>(Inputs.Select(i => i.Name));
        available.UnionWith(Initializers.Keys);
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < Nodes.Count; i++)
            foreach (string output in Nodes[i].Outputs)
            {
                if (output.Length == 0) continue;
                if (producer.ContainsKey(output) || available.Contains(output))
                    throw new GraphException($"value '{output}' is produced twice (second time by node '{Nodes[i].Name}')");
                producer[output] = i;
            }

        var waiting = new int[Nodes.Count];
        var consumers = new Dictionary<int, List<int>>();
        for (int i = 0; i < Nodes.Count; i++)
            foreach (string input in Nodes[i].Inputs.Where(n => n.Length > 0).Distinct())
            {
                if (available.Contains(input)) continue;
                if (!producer.TryGetValue(input, out int from))
                    throw new GraphException($"node '{Nodes[i].Name}' ({Nodes[i].OpType}) reads '{input}', which is neither a graph input, an initializer nor any node's output");
                waiting[i]++;
                (consumers.TryGetValue(from, out var list) ? list : consumers[from] = new()).Add(i);
            }

        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < Nodes.Count; i++) if (waiting[i] == 0) ready.Enqueue(i, i);
        var order = new List<Node>(Nodes.Count);
        while (ready.TryDequeue(out int i, out _))
        {
            order.Add(Nodes[i]);
            if (!consumers.TryGetValue(i, out var next)) continue;
            foreach (int c in next) if (--waiting[c] == 0) ready.Enqueue(c, c);
        }
        if (order.Count != Nodes.Count)
        {
            // Every node left waits for a producer that is left too: walking back through such producers finds a cycle.
            int at = Enumerable.Range(0, Nodes.Count).First(i => waiting[i] > 0);
            var path = new List<int>();
            var seen = new Dictionary<int, int>();
            while (!seen.ContainsKey(at))
            {
                seen[at] = path.Count;
                path.Add(at);
                at = Nodes[at].Inputs.Where(n => producer.TryGetValue(n, out int p) && waiting[p] > 0).Select(n => producer[n]).First();
            }
            var cycle = path.Skip(seen[at]).Reverse().ToList(); // in the direction data flows
            int first = cycle.IndexOf(cycle.Min());
            cycle = cycle.Skip(first).Concat(cycle.Take(first)).ToList(); // from the node that comes first in the file
            if (cycle.Count == 1)
                throw new GraphException($"node '{Nodes[at].Name}' ({Nodes[at].OpType}) reads its own output '{Nodes[at].Outputs.First(Nodes[at].Inputs.Contains)}'");
            throw new GraphException($"the graph has a cycle: {string.Join(" -> ", cycle.Append(cycle[0]).Select(i => $"'{Nodes[i].Name}'"))}");
        }
        foreach (var output in Outputs)
            if (!available.Contains(output.Name) && !producer.ContainsKey(output.Name))
                throw new GraphException($"graph output '{output.Name}' is not produced by any node");
        return order;
    }
}
