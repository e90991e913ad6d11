using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// A residual block y = x + F(x) with an identity skip whose branch F can be removed, leaving y = x.
/// </summary>
/// <param name="Add">The Add node that joins the skip and the branch.</param>
/// <param name="Input">x: the block's input, which the Add reads directly (the identity skip).</param>
/// <param name="Branch">F(x): the value the branch adds.</param>
/// <param name="Output">y: the Add's output.</param>
/// <param name="Nodes">The branch's nodes in data-flow order (the Add not included).</param>
/// <param name="Weights">The initializers that only the branch reads (they go with it).</param>
public sealed record ResidualBlock(string Add, string Input, string Branch, string Output, IReadOnlyList<string> Nodes, IReadOnlyList<string> Weights)
{
    /// <inheritdoc />
    public override string ToString() => $"{Add}: {Output} = {Input} + F({Input}), F of {Nodes.Count} nodes and {Weights.Count} weights";
}

/// <summary>
/// Finds the residual blocks that depth pruning may remove: an Add whose one input is a value x and whose other input
/// is computed from x alone (and constants) by nodes whose results nobody outside the branch reads, with y of x's
/// shape. Removing such a branch leaves the rest of the graph valid and computes exactly what the original computes
/// when the branch outputs zeros. Shortcuts that transform x (a strided 1×1 convolution) are no identity skip, so
/// those blocks are not listed.
/// </summary>
public static class ResidualBlocks
{
    static readonly HashSet<string> RandomOps = new() { "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli" };

    /// <summary>The removable blocks of <paramref name="module"/>, in data-flow order; shapes are observed on <paramref name="sample"/> (one tensor per graph input).</summary>
    public static IReadOnlyList<ResidualBlock> Find(GraphModule module, IReadOnlyList<Tensor> sample)
    {
        var graph = module.Graph;
        var order = graph.TopologicalOrder();
        var producer = new Dictionary<string, Node>();
        var readers = new Dictionary<string, List<Node>>();
        foreach (var node in order)
        {
            foreach (string output in node.Outputs.Where(o => o.Length > 0)) producer[output] = node;
            foreach (string input in node.Inputs.Where(i => i.Length > 0).Distinct())
                (readers.TryGetValue(input, out var list) ? list : readers[input] = new()).Add(node);
        }
        var constants = graph.Initializers.Keys.ToHashSet();
        foreach (var node in order)
            if (!RandomOps.Contains(node.OpType) && node.Inputs.All(i => i.Length == 0 || constants.Contains(i)))
                constants.UnionWith(node.Outputs.Where(o => o.Length > 0));
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        var position = order.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i);

        var candidates = new List<(Node Add, string X, string Branch, HashSet<Node> Nodes)>();
        foreach (var add in order.Where(n => n.OpType == "Add" && n.Domain.Length == 0 && n.Inputs.Count == 2))
            for (int side = 0; side < 2; side++)
            {
                string x = add.Inputs[side], end = add.Inputs[1 - side];
                if (x == end || constants.Contains(x) || constants.Contains(end)) continue;
                if (Branch(x, end, add, producer, readers, constants, graphOutputs) is { } nodes)
                    candidates.Add((add, x, end, nodes));
            }
        if (candidates.Count == 0) return Array.Empty<ResidualBlock>();

        // The skip must not broadcast the sum to a larger shape: y := x has to keep y's shape.
        var shapes = new Dictionary<string, Tensor>();
        bool training = module.training;
        module.eval();
        try
        {
            using var _ = no_grad();
            module.Run(sample, shapes, candidates.SelectMany(c => new[] { c.X, c.Add.Outputs[0] }).Distinct().ToList());
        }
        finally
        {
            module.train(training);
        }

        var blocks = new List<ResidualBlock>();
        foreach (var (add, x, end, nodes) in candidates)
        {
            if (!shapes[x].shape.SequenceEqual(shapes[add.Outputs[0]].shape)) continue;
            var weights = nodes.SelectMany(n => n.Inputs).Where(graph.Initializers.ContainsKey).Distinct()
                .Where(w => readers[w].All(nodes.Contains)).ToList();
            blocks.Add(new ResidualBlock(add.Name, x, end, add.Outputs[0], nodes.OrderBy(n => position[n]).Select(n => n.Name).ToList(), weights));
        }
        return blocks;
    }

    /// <summary>
    /// The nodes that compute <paramref name="end"/> from <paramref name="x"/>, or null if the branch reads another
    /// computed value or something outside it reads the branch's results. Constant-producing nodes are part of the
    /// branch only if the branch alone reads them.
    /// </summary>
    static HashSet<Node>? Branch(string x, string end, Node add, Dictionary<string, Node> producer, Dictionary<string, List<Node>> readers,
        HashSet<string> constants, HashSet<string> graphOutputs)
    {
        var nodes = new HashSet<Node>();
        var pending = new Stack<string>(new[] { end });
        bool readsX = false;
        while (pending.TryPop(out string? value))
        {
            if (value == x) { readsX = true; continue; }
            if (!producer.TryGetValue(value, out var node))
            {
                if (constants.Contains(value)) continue; // an initializer
                return null; // another graph input
            }
            if (!nodes.Add(node)) continue;
            foreach (string input in node.Inputs.Where(i => i.Length > 0)) pending.Push(input);
        }
        if (!readsX) return null;

        // Constants that something outside also reads stay where they are.
        bool changed = true;
        while (changed)
            changed = nodes.RemoveWhere(n => n.Outputs.All(constants.Contains)
                && n.Outputs.Any(o => graphOutputs.Contains(o) || readers.GetValueOrDefault(o)?.Any(r => !nodes.Contains(r)) == true)) > 0;
        foreach (var node in nodes)
            foreach (string output in node.Outputs.Where(o => o.Length > 0))
            {
                if (graphOutputs.Contains(output)) return null;
                foreach (var reader in readers.GetValueOrDefault(output) ?? new List<Node>())
                    if (!nodes.Contains(reader) && !(output == end && reader == add)) return null;
            }
        return nodes;
    }
}
