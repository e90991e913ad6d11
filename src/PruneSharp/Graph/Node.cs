namespace PruneSharp.Graph;

/// <summary>
/// One operation of the graph: an op type (ONNX name and domain), named inputs and outputs (an empty input name
/// means an omitted optional input) and attributes.
/// </summary>
public sealed class Node
{
    /// <summary>Creates a node.</summary>
    public Node(string name, string opType, IEnumerable<string> inputs, IEnumerable<string> outputs,
        IDictionary<string, AttributeValue>? attributes = null, string domain = "")
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Attributes = attributes == null ? new() : new(attributes);
    }

    /// <summary>The node's name (unique in a well-formed graph; may be empty in files).</summary>
    public string Name { get; set; }
    /// <summary>The op type, e.g. <c>Conv</c>.</summary>
    public string OpType { get; }
    /// <summary>The op domain: empty for the default ONNX domain.</summary>
    public string Domain { get; }
    /// <summary>Input value names, in the op's order; "" for an omitted optional input.</summary>
    public List<string> Inputs { get; }
    /// <summary>Output value names, in the op's order.</summary>
    public List<string> Outputs { get; }
    /// <summary>Attributes by name.</summary>
    public Dictionary<string, AttributeValue> Attributes { get; }

    /// <summary>The input name at <paramref name="index"/>, or null if absent or omitted.</summary>
    public string? InputOrNull(int index) => index < Inputs.Count && Inputs[index].Length > 0 ? Inputs[index] : null;

    /// <summary>An integer attribute, or <paramref name="fallback"/> if absent.</summary>
    public long GetInt(string name, long fallback) => Get(name, AttributeKind.Int)?.Int ?? fallback;
    /// <summary>A float attribute, or <paramref name="fallback"/> if absent.</summary>
    public float GetFloat(string name, float fallback) => Get(name, AttributeKind.Float)?.Float ?? fallback;
    /// <summary>A string attribute, or <paramref name="fallback"/> if absent.</summary>
    public string GetString(string name, string fallback) => Get(name, AttributeKind.String)?.String ?? fallback;
    /// <summary>An integer-list attribute, or null if absent.</summary>
    public IReadOnlyList<long>? GetInts(string name) => Get(name, AttributeKind.Ints)?.Ints;
    /// <summary>A float-list attribute, or null if absent.</summary>
    public IReadOnlyList<float>? GetFloats(string name) => Get(name, AttributeKind.Floats)?.Floats;
    /// <summary>A tensor attribute, or null if absent.</summary>
    public TorchSharp.torch.Tensor? GetTensor(string name) => Get(name, AttributeKind.Tensor)?.Tensor;

    /// <summary>When set, the names of the attributes read through the getters are added here (<see cref="GraphValidation"/>).</summary>
    internal HashSet<string>? AttributesRead { get; set; }

    AttributeValue? Get(string name, AttributeKind kind)
    {
        AttributesRead?.Add(name);
        if (!Attributes.TryGetValue(name, out var value)) return null;
        if (value.Kind != kind)
            throw new GraphException($"node '{Name}' ({OpType}): attribute '{name}' is {value.Kind}, expected {kind}");
        return value;
    }

    /// <inheritdoc />
    public override string ToString() => $"{OpType} '{Name}' ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}
