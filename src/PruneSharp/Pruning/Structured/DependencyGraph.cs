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
    DependencyGraph(GraphModule module, IReadOnlyList<ChannelGroup> groups, IReadOnlyList<BlockedGroup> blocked, IReadOnlyDictionary<string, long[]> shapes)
    {
        Module = module;
        Groups = groups;
        Blocked = blocked;
        Shapes = shapes;
    }

    /// <summary>The analysed module.</summary>
    public GraphModule Module { get; }
    /// <summary>Groups that can be pruned.</summary>
    public IReadOnlyList<ChannelGroup> Groups { get; }
    /// <summary>Channel spaces left out of pruning, with reasons.</summary>
    public IReadOnlyList<BlockedGroup> Blocked { get; }
    /// <summary>Shapes of every value observed in the sample forward pass.</summary>
    public IReadOnlyDictionary<string, long[]> Shapes { get; }

    /// <summary>Analyses <paramref name="module"/>, observing shapes on <paramref name="sampleInputs"/> (one per graph input).</summary>
    /// <param name="module">The model.</param>
    /// <param name="sampleInputs">One example per graph input.</param>
    /// <param name="registry">The ops.</param>
    /// <param name="narrowOutputs">
    /// Let channels that reach a graph output be removed, the output getting narrower (an encoder's embedding width):
    /// such groups are approximate (<see cref="ChannelGroup.Approximations"/>) instead of left out.
    /// </param>
    public static DependencyGraph Build(GraphModule module, IReadOnlyList<Tensor> sampleInputs, OpRegistry? registry = null, bool narrowOutputs = false)
    {
        registry ??= OpRegistry.Default;
        var graph = module.Graph;
        var shapes = ObserveShapes(module, sampleInputs);
        var analysis = new Analysis(graph, shapes, n => graph.Initializers.ContainsKey(n));
        foreach (var node in graph.TopologicalOrder())
            registry.Find(node, graph.Opset).FlowChannels(analysis.Enter(node));
        foreach (var output in graph.Outputs)
            if (narrowOutputs) analysis.MarkValue(output.Name, $"narrows graph output '{output.Name}'", approximate: true);
            else analysis.MarkValue(output.Name, $"reaches graph output '{output.Name}'", approximate: false);
        var (groups, blocked) = analysis.Finish();
        return new DependencyGraph(module, groups, blocked, shapes);
    }

    static Dictionary<string, long[]> ObserveShapes(GraphModule module, IReadOnlyList<Tensor> inputs)
    {
        var shapes = new Dictionary<string, long[]>();
        bool training = module.training;
        module.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            module.Run(inputs, (name, value) => shapes[name] = value.shape);
        }
        finally
        {
            module.train(training);
        }
        return shapes;
    }

    /// <summary>
    /// The state of one analysis. Every channel of every space is a label; a tie unites labels one by one (union-find
    /// over labels), so that the removable units of a group — its channels — are the classes of united labels, and a
    /// group is a connected set of spaces (union-find over spaces). Ties between spaces with the same numbering
    /// (residual adds) give one class per index; ties that permute or fold channels (channel shuffle) merge more; a
    /// split into units (attention heads) unites each run of a unit's channels, and the group remembers the unit size.
    /// </summary>
    sealed class Analysis : ChannelFlow
    {
        readonly Graph.Graph _graph;
        readonly Dictionary<string, long[]> _shapes;
        readonly Func<string, bool> _isWeight;
        readonly List<int> _parent = new(), _size = new(), _offset = new(), _labelParent = new();
        readonly List<string> _producer = new();
        readonly Dictionary<int, List<string>> _blocked = new(), _approximate = new();
        readonly Dictionary<string, ValueChannels> _values = new();
        readonly List<(string Value, Node Node)> _outputs = new();
        readonly List<(int Space, int Unit)> _units = new();
        readonly List<(string Weight, int Axis, ChannelLabel[] Labels, WeightRole Role, Node Node)> _members = new();
        Node _node = null!;

        public Analysis(Graph.Graph graph, Dictionary<string, long[]> shapes, Func<string, bool> isWeight)
        {
            _graph = graph;
            _shapes = shapes;
            _isWeight = isWeight;
        }

        public Analysis Enter(Node node) { _node = node; return this; }

        public override Node Node => _node;

        public override ValueChannels? Input(int index) =>
            _node.InputOrNull(index) is { } name && _values.TryGetValue(name, out var channels) ? channels : null;

        public override long[]? Shape(string valueName) => _shapes.GetValueOrDefault(valueName);

        public override bool IsWeight(string valueName) => _isWeight(valueName);

        public override Tensor? Constant(string valueName) => _graph.ConstantValue(valueName);

        public override ChannelLabel[] NewSpace(int size)
        {
            int space = _parent.Count;
            _parent.Add(space);
            _size.Add(size);
            _offset.Add(_labelParent.Count);
            for (int i = 0; i < size; i++) _labelParent.Add(_labelParent.Count);
            _producer.Add(_node.Name);
            return Enumerable.Range(0, size).Select(i => new ChannelLabel(space, i)).ToArray();
        }

        public override void SetOutput(int index, int axis, ChannelLabel[] labels)
        {
            if (index >= _node.Outputs.Count || _node.Outputs[index].Length == 0) return;
            if (!_values.ContainsKey(_node.Outputs[index])) _outputs.Add((_node.Outputs[index], _node));
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
                bool none = run[0].IsNone;
                foreach (var label in run)
                {
                    if (label.IsNone != none) return null;
                    if (!none) Union(run[0], label);
                }
                result[u] = run[0];
                if (!none) _units.Add((run[0].Space, unit));
            }
            return result;
        }

        public override void Tie(ChannelLabel[] a, ChannelLabel[] b)
        {
            if (a.Length != b.Length) { Block("tied channel sets differ in size"); return; }
            if (Enumerable.Range(0, a.Length).Any(p => a[p].IsNone != b[p].IsNone))
            {
                Block("a position carries a channel in one tied input and none in the other");
                return;
            }
            for (int p = 0; p < a.Length; p++)
                if (!a[p].IsNone) Union(a[p], b[p]);
        }

        public override void Block(string reason) => MarkInputs(_blocked, reason);

        public override void Approximate(string reason) => MarkInputs(_approximate, reason);

        void MarkInputs(Dictionary<int, List<string>> marks, string reason)
        {
            string why = $"node '{_node.Name}' ({_node.OpType}): {reason}";
            for (int i = 0; i < _node.Inputs.Count; i++)
                if (Input(i) is { } channels) Mark(marks, channels.Labels, why);
        }

        public void MarkValue(string value, string reason, bool approximate)
        {
            if (_values.TryGetValue(value, out var channels)) Mark(approximate ? _approximate : _blocked, channels.Labels, reason);
        }

        static void Mark(Dictionary<int, List<string>> marks, ChannelLabel[] labels, string why)
        {
            foreach (int space in labels.Where(l => !l.IsNone).Select(l => l.Space).Distinct())
            {
                var reasons = marks.TryGetValue(space, out var list) ? list : marks[space] = new();
                if (!reasons.Contains(why)) reasons.Add(why);
            }
        }

        static int Find(List<int> parent, int x)
        {
            while (parent[x] != x) x = parent[x] = parent[parent[x]];
            return x;
        }

        int Find(int space) => Find(_parent, space);

        int Class(ChannelLabel label) => Find(_labelParent, _offset[label.Space] + label.Index);

        void Union(ChannelLabel a, ChannelLabel b)
        {
            int la = Class(a), lb = Class(b);
            if (la != lb) _labelParent[lb] = la;
            int sa = Find(a.Space), sb = Find(b.Space);
            if (sa != sb) _parent[sb] = sa;
        }

        public (List<ChannelGroup>, List<BlockedGroup>) Finish()
        {
            var reasons = ByRoot(_blocked);
            var approximations = ByRoot(_approximate);
            var rootOf = Enumerable.Range(0, _parent.Count).Select(Find).ToArray();
            var roots = Enumerable.Range(0, _parent.Count).Where(s => rootOf[s] == s).ToList();
            var spacesOf = Enumerable.Range(0, _parent.Count).ToLookup(s => rootOf[s]);

            // A group's channels are its classes of labels, numbered in the order of its spaces and their indices
            // (so a group whose first space reaches every class numbers them as that space does); channelBySpace
            // holds the number of every label, looked up for every labelled position below.
            var channelBySpace = new int[_parent.Count][];
            var sizes = new Dictionary<int, int>();
            foreach (int root in roots)
            {
                var numbering = new Dictionary<int, int>();
                foreach (int space in spacesOf[root])
                {
                    channelBySpace[space] = new int[_size[space]];
                    for (int i = 0; i < _size[space]; i++)
                    {
                        int label = Find(_labelParent, _offset[space] + i);
                        if (!numbering.TryGetValue(label, out int channel)) numbering[label] = channel = numbering.Count;
                        channelBySpace[space][i] = channel;
                    }
                }
                sizes[root] = numbering.Count;
            }

            var values = GroupValues(channelBySpace, rootOf);
            var members = GroupMembers(channelBySpace, rootOf);
            var groups = new List<ChannelGroup>();
            var blocked = new List<BlockedGroup>();
            foreach (int root in roots)
            {
                var producers = spacesOf[root].Select(s => _producer[s]).Distinct().ToList();
                if (reasons.TryGetValue(root, out var why)) { blocked.Add(new BlockedGroup(sizes[root], producers, why)); continue; }
                groups.Add(new ChannelGroup(groups.Count, sizes[root], producers, members.GetValueOrDefault(root) ?? new List<GroupMember>())
                {
                    Values = values.GetValueOrDefault(root) ?? new List<GroupValue>(),
                    UnitSize = _units.Where(u => Find(u.Space) == root).Select(u => u.Unit).DefaultIfEmpty(1).Max(),
                    Approximations = approximations.GetValueOrDefault(root) ?? new List<string>(),
                });
            }
            return (groups, blocked);
        }

        /// <summary>The reasons recorded per space, merged per group (root space).</summary>
        Dictionary<int, List<string>> ByRoot(Dictionary<int, List<string>> marks)
        {
            var result = new Dictionary<int, List<string>>();
            foreach (var (space, list) in marks)
            {
                var all = result.TryGetValue(Find(space), out var r) ? r : result[Find(space)] = new();
                all.AddRange(list.Where(x => !all.Contains(x)));
            }
            return result;
        }

        /// <summary>The slices of every recorded weight, split by the group (root space) of their labels, in recording order.</summary>
        Dictionary<int, List<GroupMember>> GroupMembers(int[][] channelBySpace, int[] rootOf)
        {
            var result = new Dictionary<int, List<GroupMember>>();
            foreach (var (weight, axis, labels, role, node) in _members)
                foreach (var (root, (positions, channels)) in ByGroup(labels, channelBySpace, rootOf))
                    Add(result, root, new GroupMember(weight, axis, positions, channels, role, node.Name, node.OpType, node.Inputs.IndexOf(weight)));
            return result;
        }

        /// <summary>The positions of every labelled value, split by the group (root space) of their labels.</summary>
        Dictionary<int, List<GroupValue>> GroupValues(int[][] channelBySpace, int[] rootOf)
        {
            var result = new Dictionary<int, List<GroupValue>>();
            foreach (var (value, node) in _outputs)
            {
                var carried = _values[value];
                foreach (var (root, (positions, channels)) in ByGroup(carried.Labels, channelBySpace, rootOf))
                    Add(result, root, new GroupValue(value, carried.Axis, positions, channels, node.Name, node.OpType));
            }
            return result;
        }

        /// <summary>The positions of <paramref name="labels"/> that carry channels, and those channels, per group (root space).</summary>
        static Dictionary<int, (long[] Positions, int[] Channels)> ByGroup(ChannelLabel[] labels, int[][] channelBySpace, int[] rootOf)
        {
            // Counted first, so that each group's arrays are allocated once at their final size.
            var counts = new Dictionary<int, int>();
            foreach (var label in labels)
                if (!label.IsNone) counts[rootOf[label.Space]] = counts.GetValueOrDefault(rootOf[label.Space]) + 1;
            var byRoot = counts.ToDictionary(kv => kv.Key, kv => (Positions: new long[kv.Value], Channels: new int[kv.Value]));
            var filled = new Dictionary<int, int>();
            for (int p = 0; p < labels.Length; p++)
            {
                var label = labels[p];
                if (label.IsNone) continue;
                int root = rootOf[label.Space], k = filled.GetValueOrDefault(root);
                var (positions, channels) = byRoot[root];
                positions[k] = p;
                channels[k] = channelBySpace[label.Space][label.Index];
                filled[root] = k + 1;
            }
            return byRoot;
        }

        static void Add<T>(Dictionary<int, List<T>> lists, int root, T item)
        {
            if (!lists.TryGetValue(root, out var list)) lists[root] = list = new List<T>();
            list.Add(item);
        }
    }
}
