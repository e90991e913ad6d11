using static TorchSharp.torch;

namespace PruneSharp.Graph.Passes;

/// <summary>
/// Recognises the layer normalisation that exporters write below opset 17, where ONNX has no LayerNormalization —
/// <c>μ = ReduceMean(x); d = x − μ; σ = Sqrt(ReduceMean(d²) + ε); y = d / σ · γ + β</c> over the last axis — and
/// replaces it with one <c>LayerNormalization(x, γ, β)</c> node (axis −1, epsilon ε), so that the channel analysis
/// sees a normalisation with a per-channel scale and shift instead of reductions over the channel axis. The fused
/// node computes the same function; <see cref="Decompose"/> gives the exporter's form back, which the ONNX writer
/// uses below opset 17 so that a written model stays loadable at its opset.
/// </summary>
public static class LayerNormFusion
{
    /// <summary>Replaces every decomposed layer normalisation over the last axis with a LayerNormalization node; returns how many.</summary>
    public static int Apply(Graph graph)
    {
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        var readers = graph.Nodes.SelectMany(n => n.Inputs.Where(i => i.Length > 0).Distinct().Select(i => (Value: i, Node: n))).ToLookup(r => r.Value, r => r.Node);
        Node? Only(string value, string opType) =>
            !graphOutputs.Contains(value) && readers[value].Count() == 1 && readers[value].Single() is { } r && r.OpType == opType && r.Domain is "" or "ai.onnx" ? r : null;
        string? Other(Node node, string value) => node.Inputs.Count == 2 && node.Inputs.Count(i => i == value) == 1 ? node.Inputs.Single(i => i != value) : null;
        float? Scalar(string? name) => name != null && graph.ConstantValue(name) is { } c && c.numel() == 1 && c.is_floating_point() ? c.to_type(ScalarType.Float32).item<float>() : null;
        bool Vector(string? name) => name != null && graph.Initializers.TryGetValue(name, out var w) && w.is_floating_point() && w.dim() == 1;

        int count = 0;
        foreach (var mean in graph.Nodes.Where(n => IsLastAxisMean(n)).ToList())
        {
            if (!graph.Nodes.Contains(mean)) continue;
            string x = mean.Inputs[0];
            var center = readers[mean.Outputs[0]].Count() == 1 ? readers[mean.Outputs[0]].Single() : null;
            if (center is not { OpType: "Sub" } || center.Inputs.Count != 2 || center.Inputs[0] != x || center.Inputs[1] != mean.Outputs[0]
                || graphOutputs.Contains(mean.Outputs[0]) || graphOutputs.Contains(center.Outputs[0])) continue;
            var centered = readers[center.Outputs[0]].ToList();
            var square = centered.FirstOrDefault(n => n.OpType == "Pow" && n.Inputs.Count == 2 && n.Inputs[0] == center.Outputs[0] && Scalar(n.Inputs[1]) == 2f);
            var divide = centered.FirstOrDefault(n => n.OpType == "Div" && n.Inputs.Count == 2 && n.Inputs[0] == center.Outputs[0]);
            if (square == null || divide == null || centered.Count != 2) continue;
            if (Only(square.Outputs[0], "ReduceMean") is not { } variance || !IsLastAxisMean(variance)) continue;
            if (Only(variance.Outputs[0], "Add") is not { } shifted || Scalar(Other(shifted, variance.Outputs[0])) is not float epsilon) continue;
            if (Only(shifted.Outputs[0], "Sqrt") is not { } root || Only(root.Outputs[0], "Div") != divide || divide.Inputs[1] != root.Outputs[0]) continue;
            if (Only(divide.Outputs[0], "Mul") is not { } scale || Other(scale, divide.Outputs[0]) is not { } gamma || !Vector(gamma)) continue;
            var shift = Only(scale.Outputs[0], "Add");
            string? beta = shift != null ? Other(shift, scale.Outputs[0]) : null;
            if (!Vector(beta)) { shift = null; beta = null; }

            var last = shift ?? scale;
            var pattern = new[] { mean, center, square, variance, shifted, root, divide, scale }.Concat(shift != null ? new[] { shift } : Array.Empty<Node>()).ToHashSet();
            string name = FusedName(graph, mean.Name);
            var fused = new Node(name, "LayerNormalization", beta != null ? new[] { x, gamma, beta } : new[] { x, gamma }, last.Outputs,
                new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(-1), ["epsilon"] = AttributeValue.FromFloat(epsilon) });
            graph.Nodes[graph.Nodes.IndexOf(last)] = fused;
            graph.Nodes.RemoveAll(pattern.Contains);
            foreach (var node in pattern) foreach (string output in node.Outputs) graph.ValueInfos.Remove(output);
            count++;
        }
        return count;
    }

    /// <summary>
    /// The exporter's form of a LayerNormalization node over the last axis with one output (ReduceMean, Sub, Pow,
    /// ReduceMean, Add, Sqrt, Div, Mul, Add), its constants as Constant nodes; the node itself when it is not such a node.
    /// </summary>
    public static IReadOnlyList<Node> Decompose(Node node)
    {
        if (node.OpType != "LayerNormalization" || node.Domain is not ("" or "ai.onnx") || node.GetInt("axis", -1) != -1
            || node.Outputs.Skip(1).Any(o => o.Length > 0) || node.InputOrNull(1) is not { } gamma)
            return new[] { node };
        string p = node.Name, x = node.Inputs[0];
        var lastAxis = new Dictionary<string, AttributeValue> { ["axes"] = AttributeValue.FromInts(new long[] { -1 }), ["keepdims"] = AttributeValue.FromInt(1) };
        Node Op(string op, string name, string[] inputs, string output, Dictionary<string, AttributeValue>? attributes = null) =>
            new($"{p}/{name}", op, inputs, new[] { output }, attributes ?? new Dictionary<string, AttributeValue>());
        Node Constant(string name, float value) =>
            Op("Constant", name, Array.Empty<string>(), $"{p}/{name}_output", new() { ["value"] = AttributeValue.FromTensor(tensor(value)) });
        string y = node.Outputs[0], scaled = node.InputOrNull(2) is null ? y : $"{p}/Mul_output";
        var nodes = new List<Node>
        {
            Op("ReduceMean", "ReduceMean", new[] { x }, $"{p}/ReduceMean_output", lastAxis),
            Op("Sub", "Sub", new[] { x, $"{p}/ReduceMean_output" }, $"{p}/Sub_output"),
            Constant("Two", 2f),
            Op("Pow", "Pow", new[] { $"{p}/Sub_output", $"{p}/Two_output" }, $"{p}/Pow_output"),
            Op("ReduceMean", "ReduceMean_1", new[] { $"{p}/Pow_output" }, $"{p}/ReduceMean_1_output", lastAxis),
            Constant("Epsilon", node.GetFloat("epsilon", 1e-5f)),
            Op("Add", "Add", new[] { $"{p}/ReduceMean_1_output", $"{p}/Epsilon_output" }, $"{p}/Add_output"),
            Op("Sqrt", "Sqrt", new[] { $"{p}/Add_output" }, $"{p}/Sqrt_output"),
            Op("Div", "Div", new[] { $"{p}/Sub_output", $"{p}/Sqrt_output" }, $"{p}/Div_output"),
            Op("Mul", "Mul", new[] { $"{p}/Div_output", gamma }, scaled),
        };
        if (node.InputOrNull(2) is { } beta) nodes.Add(Op("Add", "Add_1", new[] { scaled, beta }, y));
        return nodes;
    }

    static bool IsLastAxisMean(Node node) =>
        node.OpType == "ReduceMean" && node.Domain is "" or "ai.onnx" && node.Inputs.Count == 1 && node.GetInt("keepdims", 1) == 1
        && node.GetInts("axes") is { Count: 1 } axes && axes[0] == -1;

    /// <summary>The exporter's name of the module (<c>/layers.0/norm/ReduceMean</c> → <c>/layers.0/norm/LayerNormalization</c>), unique in the graph.</summary>
    static string FusedName(Graph graph, string reduceName)
    {
        int slash = reduceName.LastIndexOf('/');
        string name = (slash >= 0 ? reduceName[..(slash + 1)] : reduceName + "/") + "LayerNormalization";
        string unique = name;
        for (int k = 1; graph.Nodes.Any(n => n.Name == unique); k++) unique = $"{name}_{k}";
        return unique;
    }
}
