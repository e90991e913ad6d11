namespace PruneSharp.Graph;

/// <summary>What a floating-point initializer is to the nodes that read it.</summary>
public enum ParameterKind
{
    /// <summary>The weight of a Conv, ConvTranspose, Gemm or MatMul (attention projections included).</summary>
    Weight,

    /// <summary>A layer's bias: Conv/ConvTranspose/Gemm's own, or a constant added right after a MatMul, Conv or Gemm.</summary>
    Bias,

    /// <summary>Scale or shift of a normalisation op (BatchNormalization, LayerNormalization, InstanceNormalization, GroupNormalization).</summary>
    Normalization,

    /// <summary>A table whose rows are looked up (Gather by computed ids, a Slice of learned positions) or a learned vector expanded to the batch or concatenated to the activations (a class token).</summary>
    Embedding,

    /// <summary>The slope of a PRelu.</summary>
    Activation,

    /// <summary>A non-scalar constant of element-wise arithmetic after a layer (a decomposed norm's scale or shift, LayerScale, added positions).</summary>
    Elementwise,

    /// <summary>A constant of arithmetic on the input path, before any layer (the input normalisation's mean and std).</summary>
    InputConstant,

    /// <summary>Anything else: scalars of arithmetic (epsilons, GELU's constants), shape-like values, op state (running statistics).</summary>
    Constant,
}

/// <summary>One floating-point initializer's role.</summary>
/// <param name="Name">The initializer's name (a <see cref="GraphModule"/> parameter's name).</param>
/// <param name="Kind">What it is.</param>
/// <param name="Node">The node that gives it this role.</param>
/// <param name="OpType">That node's op type.</param>
/// <param name="OutputAxis">For a <see cref="ParameterKind.Weight"/>: the axis of its output features or channels (Conv 0, ConvTranspose 1, MatMul's [in, out] 1).</param>
/// <param name="ReductionAxis">For a <see cref="ParameterKind.Weight"/>: the axis its layer sums over (Conv 1, ConvTranspose 0, Gemm 1 with transB=1 else 0, MatMul's [in, out] 0).</param>
public sealed record ParameterRole(string Name, ParameterKind Kind, string Node, string OpType, int? OutputAxis = null, int? ReductionAxis = null)
{
    /// <summary>True for the parameters of parameterised ops (every kind but <see cref="ParameterKind.InputConstant"/> and <see cref="ParameterKind.Constant"/>).</summary>
    public bool IsLayerParameter => Kind is not (ParameterKind.InputConstant or ParameterKind.Constant);
}

/// <summary>
/// The role of every floating-point initializer of a graph, read from the nodes that use it, and which weights belong
/// to the first and last layers. An initializer reached through <c>Identity</c> (an exporter's alias) or
/// <c>Transpose</c> (a training-mode export's run-time transpose) counts as read by the node behind it, with its axes
/// mapped through the permutation. Where several readers disagree, the first of this order wins: embedding, weight,
/// input constant, bias, normalisation, activation, element-wise, constant (a table tied to an output projection
/// stays an embedding).
/// </summary>
public sealed class ParameterRoles
{
    static readonly HashSet<string> NormalizationOps = new(StringComparer.Ordinal)
        { "BatchNormalization", "LayerNormalization", "InstanceNormalization", "GroupNormalization" };
    static readonly HashSet<string> LayerOps = new(StringComparer.Ordinal) { "Conv", "ConvTranspose", "Gemm", "MatMul" };
    static readonly HashSet<string> Arithmetic = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div" };

    readonly Dictionary<string, ParameterRole> _roles = new(StringComparer.Ordinal);
    readonly List<string> _first = new(), _last = new();

    ParameterRoles()
    {
    }

    /// <summary>Every floating-point initializer's role, by name.</summary>
    public IReadOnlyDictionary<string, ParameterRole> ByName => _roles;

    /// <summary>Weights (and embedding tables) of the layers that read the graph's inputs with no layer before them, in graph order.</summary>
    public IReadOnlyList<string> FirstLayers => _first;

    /// <summary>Weights (and tables) of the layers whose outputs reach a graph output with no layer after them, in graph order.</summary>
    public IReadOnlyList<string> LastLayers => _last;

    /// <summary>Reads the roles of <paramref name="graph"/>'s floating-point initializers.</summary>
    public static ParameterRoles Of(Graph graph)
    {
        var roles = new ParameterRoles();
        var order = graph.TopologicalOrder();
        var sources = Sources(graph, order);
        // How each value relates to the inputs: 0 constant, 1 computed from inputs with no layer yet, 2 after a layer.
        var stage = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs) stage[input.Name] = 1;
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        var layerNodes = new List<(Node Node, string Weight)>();
        foreach (var node in order)
        {
            foreach (string output in node.Outputs) producer[output] = node;
            if (sources.ContainsKey(node.Outputs[0]) && node.OpType is "Identity" or "Transpose") continue;
            int Stage(int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0 ? stage.GetValueOrDefault(node.Inputs[i]) : 0;
            int reads = Enumerable.Range(0, node.Inputs.Count).Select(Stage).DefaultIfEmpty(0).Max();
            var found = roles.Classify(graph, node, sources, Stage, producer);
            // Layers for first and last: the weighted ops and embedding lookups.
            var weight = found.FirstOrDefault(r => r.Kind == ParameterKind.Weight || (r.Kind == ParameterKind.Embedding && r.OpType == "Gather"));
            bool layer = weight is not null;
            if (weight is not null)
            {
                layerNodes.Add((node, weight.Name));
                if (reads == 1 && !roles._first.Contains(weight.Name)) roles._first.Add(weight.Name);
            }
            foreach (string output in node.Outputs) stage[output] = layer && reads > 0 ? 2 : reads;
        }
        roles.FindLast(graph, order, layerNodes);
        return roles;
    }

    /// <summary>Initializers behind Identity and Transpose nodes: value → (initializer, permutation of its axes or null).</summary>
    static Dictionary<string, (string Name, long[]? Perm)> Sources(Graph graph, IReadOnlyList<Node> order)
    {
        var sources = new Dictionary<string, (string Name, long[]? Perm)>(StringComparer.Ordinal);
        foreach (var (name, value) in graph.Initializers)
            if (value.is_floating_point()) sources[name] = (name, null);
        foreach (var node in order)
        {
            if (node.Inputs.Count != 1 || node.Outputs.Count != 1 || !sources.TryGetValue(node.Inputs[0], out var source)) continue;
            if (node.OpType == "Identity") sources[node.Outputs[0]] = source;
            else if (node.OpType == "Transpose")
            {
                int rank = (int)graph.Initializers[source.Name].dim();
                var perm = node.GetInts("perm")?.ToArray() ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
                sources[node.Outputs[0]] = (source.Name, source.Perm is null ? perm : perm.Select(p => source.Perm[p]).ToArray());
            }
        }
        return sources;
    }

    /// <summary>Gives the initializers that <paramref name="node"/> reads their roles; returns those it assigned.</summary>
    List<ParameterRole> Classify(Graph graph, Node node, Dictionary<string, (string Name, long[]? Perm)> sources, Func<int, int> stage,
        Dictionary<string, Node> producer)
    {
        var assigned = new List<ParameterRole>();
        void Set(int input, ParameterKind kind, int? outputAxis = null, int? reductionAxis = null)
        {
            if (input >= node.Inputs.Count || !sources.TryGetValue(node.Inputs[input], out var source)) return;
            // Axes of the value the node reads, mapped back to the stored initializer's axes.
            int? Stored(int? axis) => axis is { } a && source.Perm is { } perm ? (int)perm[a] : axis;
            var role = new ParameterRole(source.Name, kind, node.Name, node.OpType, Stored(outputAxis), Stored(reductionAxis));
            assigned.Add(role);
            if (!_roles.TryGetValue(source.Name, out var old) || Rank(kind) < Rank(old.Kind)) _roles[source.Name] = role;
        }
        int RankOf(int input) => sources.TryGetValue(node.Inputs[input], out var s) ? (int)graph.Initializers[s.Name].dim() : 0;
        bool IsWeight(int input) => input < node.Inputs.Count && sources.ContainsKey(node.Inputs[input]);

        switch (node.OpType)
        {
            case "Conv":
                Set(1, ParameterKind.Weight, 0, 1);
                Set(2, ParameterKind.Bias);
                break;
            case "ConvTranspose":
                Set(1, ParameterKind.Weight, 1, 0);
                Set(2, ParameterKind.Bias);
                break;
            case "Gemm":
                bool transA = node.GetInt("transA", 0) != 0, transB = node.GetInt("transB", 0) != 0;
                if (IsWeight(1)) Set(1, ParameterKind.Weight, transB ? 0 : 1, transB ? 1 : 0);
                else if (IsWeight(0)) Set(0, ParameterKind.Weight, transA ? 1 : 0, transA ? 0 : 1);
                Set(2, ParameterKind.Bias);
                break;
            case "MatMul":
                if (IsWeight(1) && RankOf(1) >= 2) Set(1, ParameterKind.Weight, RankOf(1) - 1, RankOf(1) - 2);
                else if (IsWeight(0) && RankOf(0) >= 2) Set(0, ParameterKind.Weight, RankOf(0) - 2, RankOf(0) - 1);
                break;
            case "Gather":
                if (stage(1) > 0) Set(0, ParameterKind.Embedding);
                break;
            case "Slice" or "Expand" or "Tile":
                // Learned positions sliced to the sequence length; a class token expanded or tiled to the batch.
                if (Enumerable.Range(1, node.Inputs.Count - 1).Any(i => stage(i) > 0)) Set(0, ParameterKind.Embedding);
                break;
            case "Concat":
                if (Enumerable.Range(0, node.Inputs.Count).Any(i => stage(i) > 0))
                    for (int i = 0; i < node.Inputs.Count; i++) Set(i, ParameterKind.Embedding);
                break;
            case "PRelu":
                Set(1, ParameterKind.Activation);
                break;
            case var op when NormalizationOps.Contains(op):
                Set(1, ParameterKind.Normalization);
                Set(2, ParameterKind.Normalization);
                for (int i = 3; i < node.Inputs.Count; i++) Set(i, ParameterKind.Constant);
                break;
            case var op when Arithmetic.Contains(op) && node.Inputs.Count == 2:
                for (int i = 0; i < 2; i++)
                {
                    if (!IsWeight(i)) continue;
                    int other = stage(1 - i);
                    bool scalar = graph.Initializers[sources[node.Inputs[i]].Name].numel() <= 1;
                    bool afterLayer = op == "Add" && producer.TryGetValue(node.Inputs[1 - i], out var p) && LayerOps.Contains(p.OpType);
                    Set(i, other == 1 ? ParameterKind.InputConstant
                        : other == 0 || scalar ? ParameterKind.Constant
                        : afterLayer ? ParameterKind.Bias : ParameterKind.Elementwise);
                }
                break;
            default:
                for (int i = 0; i < node.Inputs.Count; i++) Set(i, ParameterKind.Constant);
                break;
        }
        return assigned;
    }

    /// <summary>Layers whose outputs reach a graph output through no other layer.</summary>
    void FindLast(Graph graph, IReadOnlyList<Node> order, List<(Node Node, string Weight)> layerNodes)
    {
        var layers = layerNodes.ToDictionary(l => l.Node, l => l.Weight);
        // A value is a tail if it is a graph output, or a non-layer node reading it has a tail output.
        var tail = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var last = new List<string>();
        foreach (var node in order.Reverse())
        {
            if (!node.Outputs.Any(tail.Contains)) continue;
            if (layers.TryGetValue(node, out string? weight)) last.Add(weight);
            else tail.UnionWith(node.Inputs.Where(i => i.Length > 0));
        }
        last.Reverse();
        _last.AddRange(last.Distinct());
    }

    static int Rank(ParameterKind kind) => kind switch
    {
        ParameterKind.Embedding => 0,
        ParameterKind.Weight => 1,
        ParameterKind.InputConstant => 2,
        ParameterKind.Bias => 3,
        ParameterKind.Normalization => 4,
        ParameterKind.Activation => 5,
        ParameterKind.Elementwise => 6,
        _ => 7,
    };
}
