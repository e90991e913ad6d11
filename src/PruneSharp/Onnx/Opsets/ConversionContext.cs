using PruneSharp.Graph;
using TorchSharp;

namespace PruneSharp.Onnx.Opsets;

/// <summary>What an <see cref="OpsetAdapter"/> may ask of the graph it converts: constant values, element types, uses of a value, fresh names.</summary>
sealed class ConversionContext
{
    readonly Graph.Graph _graph;
    readonly HashSet<string> _names = new(StringComparer.Ordinal);
    readonly HashSet<string> _used = new(StringComparer.Ordinal);

    readonly Dictionary<string, torch.Tensor> _constantNodes = new(StringComparer.Ordinal);

    /// <summary>A context that adds initializers to <paramref name="graph"/> and reads <paramref name="nodes"/> (the nodes before the conversion).</summary>
    public ConversionContext(Graph.Graph graph, IEnumerable<Node> nodes)
    {
        _graph = graph;
        _names.UnionWith(graph.Inputs.Select(i => i.Name));
        _names.UnionWith(graph.Outputs.Select(o => o.Name));
        _names.UnionWith(graph.Initializers.Keys);
        _names.UnionWith(graph.ValueInfos.Keys);
        foreach (var node in nodes)
        {
            if (node.OpType == "Constant" && node.Outputs.Count == 1
                && (node.GetTensor("value") ?? (node.GetInts("value_ints") is { } ints ? torch.tensor(ints.ToArray()) : null)) is { } value)
                _constantNodes[node.Outputs[0]] = value;
            _names.Add(node.Name);
            _names.UnionWith(node.Inputs);
            _names.UnionWith(node.Outputs);
            _used.UnionWith(node.Inputs.Where(i => i.Length > 0));
        }
        _used.UnionWith(graph.Outputs.Select(o => o.Name));
    }

    /// <summary>The value of <paramref name="name"/> when it is an initializer or a Constant node's output; null if computed or absent.</summary>
    public torch.Tensor? Constant(string? name) =>
        string.IsNullOrEmpty(name) ? null : _graph.Initializers.GetValueOrDefault(name) ?? _constantNodes.GetValueOrDefault(name);

    /// <summary>The element type of <paramref name="name"/> where the file states it; <see cref="DataType.Undefined"/> otherwise.</summary>
    public DataType ElementType(string name)
    {
        if (_graph.Initializers.TryGetValue(name, out var value)) return value.dtype.ToDataType();
        var info = _graph.ValueInfos.GetValueOrDefault(name)
                   ?? _graph.Inputs.Concat(_graph.Outputs).FirstOrDefault(v => v.Name == name);
        return info?.ElementType ?? DataType.Undefined;
    }

    /// <summary>
    /// The element type of a float-only op's input (Clip-6, Pad-2, BatchNormalization: float16, float or double), float
    /// when the file does not state it.
    /// </summary>
    public torch.ScalarType FloatType(string name) => ElementType(name) switch
    {
        DataType.Float16 => torch.ScalarType.Float16,
        DataType.Double => torch.ScalarType.Float64,
        _ => torch.ScalarType.Float32,
    };

    /// <summary>True if a node of the graph as it was before the conversion reads <paramref name="name"/>, or it is a graph output.</summary>
    public bool IsUsed(string name) => _used.Contains(name);

    /// <summary>A name no value or node of the graph has, built from <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        string name = hint;
        for (int k = 1; _names.Contains(name); k++) name = $"{hint}_{k}";
        _names.Add(name);
        return name;
    }

    /// <summary>Adds <paramref name="value"/> as an initializer under a fresh name built from <paramref name="hint"/>; returns the name.</summary>
    public string AddInitializer(string hint, torch.Tensor value)
    {
        string name = Fresh(hint);
        _graph.Initializers[name] = value;
        return name;
    }

    /// <summary>A 1-D int64 initializer holding <paramref name="values"/>.</summary>
    public string AddInts(string hint, IReadOnlyList<long> values) => AddInitializer(hint, torch.tensor(values.ToArray(), torch.int64));

    /// <summary>A scalar initializer of <paramref name="type"/> holding <paramref name="value"/>.</summary>
    public string AddScalar(string hint, double value, torch.ScalarType type) => AddInitializer(hint, torch.tensor(value, type));
}
