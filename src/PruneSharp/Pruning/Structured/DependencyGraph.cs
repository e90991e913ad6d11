using PruneSharp.Graph;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// The coupled channels of a <see cref="GraphModule"/>: every op's channel rule (<see cref="OpFamily.FlowChannels"/>)
/// is applied in data-flow order, starting a channel space at each producer (convolution, linear layer), carrying
/// it through element-wise ops, normalisation, pooling and flattening, tying spaces that meet (residual adds), and
/// recording every weight slice that belongs to each channel. Spaces that reach an op without a safe rule, or a graph
/// output, are left out with their reasons — never pruned wrongly.
/// </summary>
public sealed class DependencyGraph
{
    DependencyGraph(GraphModule module, IReadOnlyList<ChannelGroup> groups, IReadOnlyList<BlockedGroup> blocked, IReadOnlyDictionary<string, long[]> shapes,
        IReadOnlyDictionary<string, ValuePositions> values)
    {
        Module = module;
        Groups = groups;
        Blocked = blocked;
        Shapes = shapes;
        Values = values;
    }

    /// <summary>The analysed module.</summary>
    public GraphModule Module { get; }
    /// <summary>Groups that can be pruned.</summary>
    public IReadOnlyList<ChannelGroup> Groups { get; }
    /// <summary>Channel spaces left out of pruning, with reasons.</summary>
    public IReadOnlyList<BlockedGroup> Blocked { get; }
    /// <summary>Shapes of every value observed in the sample forward pass.</summary>
    public IReadOnlyDictionary<string, long[]> Shapes { get; }

    /// <summary>Which group channel each position along a value's channel axis belongs to (group −1: none or left out).</summary>
    internal IReadOnlyDictionary<string, ValuePositions> Values { get; }

    /// <summary>Positions along <paramref name="Axis"/> of a value and the (group, channel) each belongs to.</summary>
    internal sealed record ValuePositions(int Axis, (int Group, int Channel)[] Positions);

    /// <summary>Analyses <paramref name="module"/>, observing shapes on <paramref name="sampleInputs"/> (one per graph input).</summary>
    public static DependencyGraph Build(GraphModule module, IReadOnlyList<Tensor> sampleInputs, OpRegistry? registry = null)
    {
        registry ??= OpRegistry.Default;
        var graph = module.Graph;
        var shapes = ObserveShapes(module, sampleInputs);
        var constantNodeOutputs = graph.Nodes.Where(n => n.OpType == "Constant").SelectMany(n => n.Outputs).ToHashSet();
        var analysis = new Analysis(shapes, n => graph.Initializers.ContainsKey(n), n => graph.Initializers.ContainsKey(n) || constantNodeOutputs.Contains(n));
        foreach (var node in graph.TopologicalOrder())
            registry.Find(node, graph.Opset).FlowChannels(analysis.Enter(node));
        foreach (var output in graph.Outputs)
            analysis.BlockValue(output.Name, $"reaches graph output '{output.Name}'");
        var (groups, blocked, values) = analysis.Finish();
        return new DependencyGraph(module, groups, blocked, shapes, values);
    }

    static Dictionary<string, long[]> ObserveShapes(GraphModule module, IReadOnlyList<Tensor> inputs)
    {
        var graph = module.Graph;
        var names = graph.Inputs.Select(i => i.Name).Concat(graph.Initializers.Keys)
            .Concat(graph.Nodes.SelectMany(n => n.Outputs)).Where(n => n.Length > 0).Distinct().ToList();
        var captured = new Dictionary<string, Tensor>();
        bool training = module.training;
        module.eval();
        try
        {
            using var _ = no_grad();
            module.Run(inputs, captured, names);
        }
        finally
        {
            module.train(training);
        }
        return captured.ToDictionary(kv => kv.Key, kv => kv.Value.shape);
    }

    /// <summary>
    /// The state of one analysis: channel spaces (union-find), labels of values, recorded members and blocks. A space
    /// split into units (<see cref="Units"/>) points to a coarser space whose channel i stands for its channels
    /// i·unit … (i+1)·unit−1; labels resolve through such links to the space that forms the group.
    /// </summary>
    sealed class Analysis : ChannelFlow
    {
        readonly Dictionary<string, long[]> _shapes;
        readonly Func<string, bool> _isWeight, _isConstant;
        readonly List<int> _parent = new(), _size = new();
        readonly List<string?> _producer = new();
        readonly Dictionary<int, (int Space, int Unit)> _coarser = new();
        readonly Dictionary<int, List<string>> _blocked = new();
        readonly Dictionary<string, ValueChannels> _values = new();
        readonly List<(string Weight, int Axis, ChannelLabel[] Labels, WeightRole Role, Node Node)> _members = new();
        Node _node = null!;

        public Analysis(Dictionary<string, long[]> shapes, Func<string, bool> isWeight, Func<string, bool> isConstant)
        {
            _shapes = shapes;
            _isWeight = isWeight;
            _isConstant = isConstant;
        }

        public Analysis Enter(Node node) { _node = node; return this; }

        public override Node Node => _node;

        public override ValueChannels? Input(int index) =>
            _node.InputOrNull(index) is { } name && _values.TryGetValue(name, out var channels) ? channels : null;

        public override long[]? Shape(string valueName) => _shapes.GetValueOrDefault(valueName);

        public override bool IsWeight(string valueName) => _isWeight(valueName);

        public override bool IsConstant(string valueName) => _isConstant(valueName);

        public override ChannelLabel[] NewSpace(int size) => Labels(AddSpace(size, _node.Name), size);

        int AddSpace(int size, string? producer)
        {
            int space = _parent.Count;
            _parent.Add(space);
            _size.Add(size);
            _producer.Add(producer);
            return space;
        }

        static ChannelLabel[] Labels(int space, int size) => Enumerable.Range(0, size).Select(i => new ChannelLabel(space, i)).ToArray();

        public override void SetOutput(int index, int axis, ChannelLabel[] labels)
        {
            if (index < _node.Outputs.Count && _node.Outputs[index].Length > 0)
                _values[_node.Outputs[index]] = new ValueChannels(axis, labels);
        }

        public override void Member(string weight, int axis, ChannelLabel[] labels, WeightRole role) =>
            _members.Add((weight, axis, labels, role, _node));

        public override ChannelLabel[]? Units(ChannelLabel[] labels, int unit)
        {
            if (unit < 1 || labels.Length % unit != 0) return null;
            var result = new ChannelLabel[labels.Length / unit];
            for (int u = 0; u < result.Length; u++)
            {
                var run = labels.AsSpan(u * unit, unit);
                var first = run[0];
                bool same = true, aligned = !first.IsNone && first.Index % unit == 0;
                for (int j = 1; j < unit; j++)
                {
                    same &= run[j] == first;
                    aligned &= run[j] == new ChannelLabel(first.Space, first.Index + j);
                }
                if (same) result[u] = first; // none, or one unit already (e.g. a merged head split again)
                else if (aligned && Coarser(first.Space, unit) is int space) result[u] = new ChannelLabel(space, first.Index / unit);
                else return null;
            }
            return result;
        }

        /// <summary>The space whose channel i is the unit of channels i·unit … of <paramref name="space"/>'s set; null if it is split by another unit size.</summary>
        int? Coarser(int space, int unit)
        {
            int root = Find(space);
            if (_coarser.TryGetValue(root, out var link)) return link.Unit == unit ? link.Space : null;
            if (_size[root] % unit != 0) return null;
            int coarse = AddSpace(_size[root] / unit, null);
            _coarser[root] = (coarse, unit);
            return coarse;
        }

        public override void Tie(ChannelLabel[] a, ChannelLabel[] b)
        {
            if (a.Length != b.Length) { Block("tied channel sets differ in size"); return; }
            for (int p = 0; p < a.Length; p++)
            {
                if (a[p].IsNone != b[p].IsNone || a[p].Index != b[p].Index)
                {
                    Block("tied channels do not correspond one to one");
                    return;
                }
                if (!a[p].IsNone) Union(a[p].Space, b[p].Space);
            }
        }

        public override void Block(string reason)
        {
            string why = $"node '{_node.Name}' ({_node.OpType}): {reason}";
            for (int i = 0; i < _node.Inputs.Count; i++)
                if (Input(i) is { } channels) BlockLabels(channels.Labels, why);
        }

        public void BlockValue(string value, string reason)
        {
            if (_values.TryGetValue(value, out var channels)) BlockLabels(channels.Labels, reason);
        }

        void BlockLabels(ChannelLabel[] labels, string why)
        {
            foreach (int space in labels.Where(l => !l.IsNone).Select(l => l.Space).Distinct())
            {
                var reasons = _blocked.TryGetValue(space, out var list) ? list : _blocked[space] = new();
                if (!reasons.Contains(why)) reasons.Add(why);
            }
        }

        int Find(int space)
        {
            while (_parent[space] != space) space = _parent[space] = _parent[_parent[space]];
            return space;
        }

        void Union(int a, int b)
        {
            a = Find(a); b = Find(b);
            if (a == b) return;
            if (_size[a] != _size[b]) { Block($"tied channel spaces have {_size[a]} and {_size[b]} channels"); return; }
            _parent[b] = a;
            if (!_coarser.Remove(b, out var link)) return;
            // Both sets were split into units: the units must match and are tied too.
            if (!_coarser.TryGetValue(a, out var other)) _coarser[a] = link;
            else if (other.Unit != link.Unit) Block($"tied channels are split into units of {other.Unit} and {link.Unit}");
            else Union(other.Space, link.Space);
        }

        /// <summary>The space a label finally belongs to (through unit links), and its channel there; the unit size on the way.</summary>
        (int Space, int Index, int Unit) Resolve(int space, int index)
        {
            int unit = 1;
            space = Find(space);
            while (_coarser.TryGetValue(space, out var link))
            {
                index /= link.Unit;
                unit *= link.Unit;
                space = Find(link.Space);
            }
            return (space, index, unit);
        }

        public (List<ChannelGroup>, List<BlockedGroup>, Dictionary<string, ValuePositions>) Finish()
        {
            var reasons = new Dictionary<int, List<string>>();
            foreach (var (space, list) in _blocked)
            {
                int root = Resolve(space, 0).Space;
                var all = reasons.TryGetValue(root, out var r) ? r : reasons[root] = new();
                all.AddRange(list.Where(x => !all.Contains(x)));
            }
            var producers = new Dictionary<int, List<string>>();
            var unitSize = new Dictionary<int, int>();
            for (int s = 0; s < _parent.Count; s++)
            {
                var (root, _, unit) = Resolve(s, 0);
                unitSize[root] = Math.Max(unitSize.GetValueOrDefault(root, 1), unit);
                var list = producers.TryGetValue(root, out var p) ? p : producers[root] = new();
                if (_producer[s] is { } name && !list.Contains(name)) list.Add(name);
            }
            var roots = producers.Keys.Order().ToList();

            var groups = new List<ChannelGroup>();
            var blocked = new List<BlockedGroup>();
            var groupOf = new Dictionary<int, int>();
            foreach (int root in roots)
            {
                if (reasons.TryGetValue(root, out var why)) { blocked.Add(new BlockedGroup(_size[root], producers[root], why)); continue; }
                var members = new List<GroupMember>();
                foreach (var (weight, axis, labels, role, node) in _members)
                {
                    var positions = new List<long>();
                    var channels = new List<int>();
                    for (int p = 0; p < labels.Length; p++)
                    {
                        if (labels[p].IsNone) continue;
                        var (space, index, _) = Resolve(labels[p].Space, labels[p].Index);
                        if (space == root) { positions.Add(p); channels.Add(index); }
                    }
                    if (positions.Count > 0)
                        members.Add(new GroupMember(weight, axis, positions.ToArray(), channels.ToArray(), role, node.Name, node.OpType, node.Inputs.IndexOf(weight)));
                }
                groupOf[root] = groups.Count;
                groups.Add(new ChannelGroup(groups.Count, _size[root], producers[root], members) { UnitSize = unitSize[root] });
            }

            var values = new Dictionary<string, ValuePositions>();
            foreach (var (name, channels) in _values)
                values[name] = new ValuePositions(channels.Axis, channels.Labels.Select(l =>
                {
                    if (l.IsNone) return (-1, -1);
                    var (space, index, _) = Resolve(l.Space, l.Index);
                    return groupOf.TryGetValue(space, out int group) ? (group, index) : (-1, -1);
                }).ToArray());
            return (groups, blocked, values);
        }
    }
}
