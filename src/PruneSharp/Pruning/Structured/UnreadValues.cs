namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Cleans up after graph surgery: initializers and nodes whose values nobody reads any more are removed, but only those
/// that the surgery left unread (what the model carried unread before stays as it was).
/// </summary>
static class UnreadValues
{
    /// <summary>Initializers and node outputs of <paramref name="graph"/> that no node reads and that are no graph output.</summary>
    public static HashSet<string> Of(Graph.Graph graph)
    {
        var read = graph.Nodes.SelectMany(n => n.Inputs).Concat(graph.Outputs.Select(o => o.Name)).ToHashSet();
        return graph.Initializers.Keys.Concat(graph.Nodes.SelectMany(n => n.Outputs)).Where(v => v.Length > 0 && !read.Contains(v)).ToHashSet();
    }

    /// <summary>Removes, repeatedly, initializers and nodes whose values became unread since <paramref name="before"/> was taken.</summary>
    public static void RemoveNew(Graph.Graph graph, HashSet<string> before)
    {
        bool changed = true;
        while (changed)
        {
            var unread = Of(graph);
            var fresh = unread.Where(v => !before.Contains(v)).ToHashSet();
            changed = graph.Nodes.RemoveAll(n => n.Outputs.Any(fresh.Contains) && n.Outputs.All(o => o.Length == 0 || unread.Contains(o))) > 0;
            foreach (string name in fresh.Where(graph.Initializers.ContainsKey))
                changed |= graph.Initializers.Remove(name);
        }
    }
}
