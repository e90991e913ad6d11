using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>
/// Converts graphs between old default-domain opsets (<see cref="Oldest"/> to <see cref="Target"/> − 1) and
/// <see cref="Target"/>. <see cref="Upgrade"/> runs on import, so that the executor and every pass only see opset
/// <see cref="Target"/> and later; <see cref="Downgrade"/> writes a graph back at its original opset where every node
/// can be expressed there. The ops whose inputs, attributes or meaning changed in between each have an adapter
/// (BatchNormalization, Upsample/Resize, Slice, Pad, Clip, TopK, Dropout, Scatter); the others are listed in
/// <see cref="UnchangedOps"/>, and an op in neither is refused by name.
/// </summary>
public static class OpsetConversion
{
    /// <summary>The oldest default-domain opset that can be upgraded.</summary>
    public const int Oldest = 7;

    /// <summary>The opset old graphs are upgraded to.</summary>
    public const int Target = 11;

    static readonly OpsetAdapter[] Adapters =
    {
        new BatchNormalizationAdapter(), new ResizeAdapter(), new SliceAdapter(), new PadAdapter(), new ClipAdapter(),
        new TopKAdapter(), new DropoutAdapter(), new ScatterAdapter(),
    };

    static readonly Dictionary<string, OpsetAdapter> ByOldType =
        Adapters.SelectMany(a => a.OldOpTypes.Select(t => (t, a))).ToDictionary(p => p.t, p => p.a, StringComparer.Ordinal);

    static readonly Dictionary<string, OpsetAdapter> ByNewType =
        Adapters.SelectMany(a => a.NewOpTypes.Select(t => (t, a))).ToDictionary(p => p.t, p => p.a, StringComparer.Ordinal);

    /// <summary>
    /// Rewrites <paramref name="graph"/>, whose nodes follow default-domain opset <paramref name="fromOpset"/>, in place
    /// so that they follow opset <see cref="Target"/>; sets <see cref="Graph.Graph.Opset"/> to <see cref="Target"/> and
    /// <see cref="Graph.Graph.SourceOpset"/> to <paramref name="fromOpset"/>. Nothing changes when the graph is at
    /// <see cref="Target"/> or later.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromOpset"/> is older than <see cref="Oldest"/>.</exception>
    /// <exception cref="UnsupportedOpException">A node's op does not exist at <paramref name="fromOpset"/>, or has no known upgrade.</exception>
    /// <exception cref="GraphException">A node is malformed for its opset (a required attribute missing).</exception>
    public static void Upgrade(Graph.Graph graph, int fromOpset)
    {
        if (fromOpset >= Target) return;
        if (fromOpset < Oldest)
            throw new ArgumentOutOfRangeException(nameof(fromOpset), fromOpset, $"opsets older than {Oldest} cannot be upgraded");
        var old = graph.Nodes.ToList();
        var context = new ConversionContext(graph, old);
        graph.Nodes.Clear();
        foreach (var node in old)
        {
            if (node.Domain is not ("" or "ai.onnx")) graph.Nodes.Add(node);
            else if (ByOldType.TryGetValue(node.OpType, out var adapter))
            {
                if (node.InputOrNull(0) == null || node.Outputs.Count == 0 || node.Outputs[0].Length == 0)
                    throw new GraphException($"node '{node.Name}' ({node.OpType}): the first input or output is missing");
                graph.Nodes.AddRange(adapter.Upgrade(node, fromOpset, context));
            }
            else if (UnchangedOps.Since(node.OpType) is int since)
            {
                if (since > fromOpset)
                    throw new UnsupportedOpException($"node '{node.Name}': op {node.OpType} does not exist at opset {fromOpset} (it was added at opset {since})");
                graph.Nodes.Add(node);
            }
            else
                throw new UnsupportedOpException(
                    $"node '{node.Name}': op {node.OpType} at opset {fromOpset} has no known upgrade to opset {Target} (it is experimental, removed, " +
                    $"not yet added, or not supported); re-export the model at opset {Target} or later");
        }
        graph.Opset = Target;
        graph.SourceOpset = fromOpset;
    }

    /// <summary>
    /// A copy of <paramref name="graph"/> (at opset <see cref="Target"/>) whose nodes follow the older opset
    /// <paramref name="toOpset"/>; initializers that only the rewritten nodes read in their new form are left out.
    /// <paramref name="graph"/> itself is not changed.
    /// </summary>
    /// <exception cref="ArgumentException">The graph is not at opset <see cref="Target"/>, or <paramref name="toOpset"/> is not older and at least <see cref="Oldest"/>.</exception>
    /// <exception cref="GraphException">A node cannot be expressed at <paramref name="toOpset"/>; the message names it and says why.</exception>
    public static Graph.Graph Downgrade(Graph.Graph graph, int toOpset)
    {
        if (graph.Opset != Target)
            throw new ArgumentException($"only opset-{Target} graphs can be written at an older opset; this one is at opset {graph.Opset}", nameof(graph));
        if (toOpset is < Oldest or >= Target)
            throw new ArgumentOutOfRangeException(nameof(toOpset), toOpset, $"the older opset must be in {Oldest}..{Target - 1}");
        var copy = new Graph.Graph { Name = graph.Name, Opset = toOpset };
        copy.Inputs.AddRange(graph.Inputs);
        copy.Outputs.AddRange(graph.Outputs);
        foreach (var (name, value) in graph.Initializers) copy.Initializers[name] = value;
        foreach (var (name, info) in graph.ValueInfos) copy.ValueInfos[name] = info;
        foreach (var (key, value) in graph.Metadata) copy.Metadata[key] = value;
        var context = new ConversionContext(copy, graph.Nodes);
        var dropped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            if (node.Domain is not ("" or "ai.onnx"))
            {
                copy.Nodes.Add(node);
                continue;
            }
            if (ByNewType.TryGetValue(node.OpType, out var adapter))
            {
                var rewritten = adapter.Downgrade(node, toOpset, context);
                dropped.UnionWith(node.Inputs.Except(rewritten.SelectMany(n => n.Inputs)));
                copy.Nodes.AddRange(rewritten);
                continue;
            }
            if (UnchangedOps.Since(node.OpType) is not int since)
                throw new GraphException($"node '{node.Name}' ({node.OpType}) cannot be written at opset {toOpset}: the op has no known form there");
            if (since > toOpset)
                throw new GraphException($"node '{node.Name}' ({node.OpType}) cannot be written at opset {toOpset}: the op exists from opset {since}");
            CheckOldForm(node, toOpset);
            copy.Nodes.Add(node);
        }
        var read = copy.Nodes.SelectMany(n => n.Inputs).Concat(copy.Outputs.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (string name in dropped.Where(n => copy.Initializers.ContainsKey(n) && !read.Contains(n))) copy.Initializers.Remove(name);
        return copy;
    }

    /// <summary>Refuses what opset <see cref="Target"/> added to ops that are otherwise unchanged: negative axes, Gemm without C, DepthToSpace's CRD mode.</summary>
    static void CheckOldForm(Node node, int opset)
    {
        string? why = null;
        if (node.GetInt("axis", 0) < 0 || node.GetInts("axes") is { } axes && axes.Any(a => a < 0))
            why = $"negative axes are allowed from opset {Target}";
        else if (node.OpType == "Gemm" && node.InputOrNull(2) == null)
            why = $"Gemm's bias C is optional only from opset {Target}";
        else if (node.OpType == "DepthToSpace" && node.GetString("mode", "DCR") != "DCR")
            why = $"DepthToSpace's mode attribute exists from opset {Target}";
        if (why != null) throw new GraphException($"node '{node.Name}' ({node.OpType}) cannot be written at opset {opset}: {why}");
    }
}
