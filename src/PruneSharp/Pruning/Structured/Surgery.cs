using PruneSharp.Graph;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Rebuilds a smaller, dense model with the chosen channels removed everywhere they appear: every member weight is
/// sliced, and op families adjust what depends on widths (a depthwise convolution's <c>group</c>, a Reshape's
/// feature count or number of heads).
/// </summary>
public static class Surgery
{
    /// <summary>A new module without the channels in <paramref name="removed"/> (group id → channel indices).</summary>
    public static GraphModule Apply(DependencyGraph dependencies, IReadOnlyDictionary<int, int[]> removed, OpRegistry? registry = null)
    {
        registry ??= OpRegistry.Default;
        var source = dependencies.Module;
        var graph = source.ToGraph();

        // Every weight of the new module is a tensor of its own (the slices index_select copies out, copies of the
        // rest), so the module adopts them instead of copying again.
        var sliced = new HashSet<string>();
        foreach (var ((weight, axis), keep) in KeptPositions(dependencies, removed))
        {
            var value = graph.Initializers[weight];
            if (keep.Length != value.shape[axis])
                throw new GraphException($"weight '{weight}' has {value.shape[axis]} positions on axis {axis}, the analysis saw {keep.Length}");
            var kept = Enumerable.Range(0, keep.Length).Where(p => keep[p]).Select(p => (long)p).ToArray();
            graph.Initializers[weight] = value.index_select(axis, tensor(kept)); // a copy
            sliced.Add(weight);
        }
        foreach (var name in graph.Initializers.Keys.Where(n => !sliced.Contains(n)).ToList())
            graph.Initializers[name] = graph.Initializers[name].clone();

        var unread = UnreadValues.Of(graph);
        var survivors = SurvivingValues(dependencies, removed);
        var context = new Context(graph, dependencies.Shapes, survivors);
        for (int i = 0; i < graph.Nodes.Count; i++)
            graph.Nodes[i] = registry.Find(graph.Nodes[i], graph.Opset).Rewire(graph.Nodes[i], context);
        UnreadValues.RemoveNew(graph, unread); // constants that rewired nodes replaced
        graph.ValueInfos.Clear(); // intermediate shapes changed
        for (int i = 0; i < graph.Outputs.Count; i++) // a narrowed output (DependencyGraph.Build's narrowOutputs)
            if (graph.Outputs[i] is { Shape: { } shape } output && survivors.TryGetValue(output.Name, out var kept) && kept.Axis < shape.Count && shape[kept.Axis].Size != null)
                graph.Outputs[i] = output with { Shape = shape.Select((d, k) => k == kept.Axis ? new Dim(kept.Count) : d).ToList() };

        var result = new GraphModule(graph, registry, adoptInitializers: true);
        result.train(source.training);
        return result;
    }

    /// <summary>
    /// The equivalence oracle for surgery: a copy of the original graph in which every reader of a removed channel
    /// (a weight slice with role <see cref="WeightRole.Reads"/>) has that slice zeroed. It must compute what the
    /// model from <see cref="Apply"/> computes (the producers' weights are left alone: a bias or a BatchNorm shift
    /// still flows through a zeroed producer, but no reader sees it).
    /// </summary>
    public static Graph.Graph ZeroedReaders(DependencyGraph dependencies, IReadOnlyDictionary<int, int[]> removed)
    {
        var graph = dependencies.Module.ToGraph();
        foreach (var group in dependencies.Groups)
        {
            if (!removed.TryGetValue(group.Id, out var channels)) continue;
            var gone = channels.ToHashSet();
            foreach (var member in group.Members.Where(m => m.Role == WeightRole.Reads))
            {
                var weight = graph.Initializers[member.Weight].clone();
                for (int k = 0; k < member.Positions.Length; k++)
                    if (gone.Contains(member.Channels[k]))
                        weight.select(member.Axis, member.Positions[k]).zero_();
                graph.Initializers[member.Weight] = weight;
            }
        }
        return graph;
    }

    /// <summary>For every (weight, axis) touched, which positions survive.</summary>
    public static Dictionary<(string Weight, int Axis), bool[]> KeptPositions(DependencyGraph dependencies, IReadOnlyDictionary<int, int[]> removed)
    {
        var keep = new Dictionary<(string, int), bool[]>();
        foreach (var group in dependencies.Groups)
        {
            if (!removed.TryGetValue(group.Id, out var channels) || channels.Length == 0) continue;
            if (channels.Any(c => c < 0 || c >= group.Size))
                throw new ArgumentException($"group {group.Id} has {group.Size} channels; cannot remove {string.Join(",", channels.Where(c => c < 0 || c >= group.Size))}");
            if (channels.Distinct().Count() >= group.Size)
                throw new ArgumentException($"removing all {group.Size} channels of group {group.Id} would disconnect the network");
            var gone = channels.ToHashSet();
            foreach (var member in group.Members)
            {
                var key = (member.Weight, member.Axis);
                if (!keep.TryGetValue(key, out var mask))
                {
                    long length = dependencies.Shapes[member.Weight][member.Axis];
                    keep[key] = mask = Enumerable.Repeat(true, (int)length).ToArray();
                }
                for (int k = 0; k < member.Positions.Length; k++)
                    if (gone.Contains(member.Channels[k])) mask[member.Positions[k]] = false;
            }
        }
        return keep;
    }

    /// <summary>For every computed value that lost positions, which positions along its channel axis survive.</summary>
    static Dictionary<string, ValueSurvivors> SurvivingValues(DependencyGraph dependencies, IReadOnlyDictionary<int, int[]> removed)
    {
        var result = new Dictionary<string, ValueSurvivors>();
        foreach (var group in dependencies.Groups)
        {
            if (!removed.TryGetValue(group.Id, out var channels) || channels.Length == 0) continue;
            var gone = channels.ToHashSet();
            foreach (var value in group.Values)
            {
                if (!result.TryGetValue(value.Value, out var survivors))
                    result[value.Value] = survivors = new ValueSurvivors(value.Axis,
                        Enumerable.Repeat(true, (int)dependencies.Shapes[value.Value][value.Axis]).ToArray());
                for (int k = 0; k < value.Positions.Length; k++)
                    if (gone.Contains(value.Channels[k])) survivors.Kept[value.Positions[k]] = false;
            }
        }
        return result;
    }

    sealed class Context(Graph.Graph graph, IReadOnlyDictionary<string, long[]> shapes, Dictionary<string, ValueSurvivors> survivors) : RewireContext
    {
        public override int Opset => graph.Opset;
        public override ValueSurvivors? Survivors(string valueName) => survivors.GetValueOrDefault(valueName);
        public override long[]? InitializerShape(string name) => graph.Initializers.TryGetValue(name, out var t) ? t.shape : null;

        public override long[]? OriginalShape(string valueName) => shapes.GetValueOrDefault(valueName);

        public override Tensor? Constant(string name) => graph.ConstantValue(name);

        public override long[]? PrunedShape(string valueName)
        {
            if (OriginalShape(valueName) is not { } shape) return null;
            shape = shape.ToArray();
            if (Survivors(valueName) is { } survivors) shape[survivors.Axis] = survivors.Count;
            return shape;
        }

        public override string AddConstant(string nameHint, Tensor value)
        {
            var taken = graph.Nodes.SelectMany(n => n.Outputs).Concat(graph.Inputs.Select(i => i.Name)).ToHashSet();
            string name = nameHint;
            for (int k = 1; graph.Initializers.ContainsKey(name) || taken.Contains(name); k++) name = $"{nameHint}_{k}";
            graph.Initializers[name] = value;
            return name;
        }
    }
}
