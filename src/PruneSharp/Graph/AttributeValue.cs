using TorchSharp;

namespace PruneSharp.Graph;

/// <summary>The kinds of node attribute, numbered as ONNX's <c>AttributeProto.AttributeType</c>.</summary>
public enum AttributeKind
{
    /// <summary>A float.</summary>
    Float = 1,
    /// <summary>A 64-bit integer.</summary>
    Int = 2,
    /// <summary>A string.</summary>
    String = 3,
    /// <summary>A tensor.</summary>
    Tensor = 4,
    /// <summary>A subgraph (kept only so that the error for ops that need one can name it).</summary>
    Graph = 5,
    /// <summary>A list of floats.</summary>
    Floats = 6,
    /// <summary>A list of 64-bit integers.</summary>
    Ints = 7,
    /// <summary>A list of strings.</summary>
    Strings = 8,
}

/// <summary>A node attribute. Exactly the field that matches <see cref="Kind"/> is set.</summary>
public sealed class AttributeValue
{
    /// <summary>Which field holds the value.</summary>
    public AttributeKind Kind { get; }
    /// <summary>The float value.</summary>
    public float Float { get; }
    /// <summary>The integer value.</summary>
    public long Int { get; }
    /// <summary>The string value.</summary>
    public string? String { get; }
    /// <summary>The tensor value.</summary>
    public torch.Tensor? Tensor { get; }
    /// <summary>The float list.</summary>
    public IReadOnlyList<float>? Floats { get; }
    /// <summary>The integer list.</summary>
    public IReadOnlyList<long>? Ints { get; }
    /// <summary>The string list.</summary>
    public IReadOnlyList<string>? Strings { get; }

    AttributeValue(AttributeKind kind, float f = 0, long i = 0, string? s = null, torch.Tensor? t = null,
        IReadOnlyList<float>? fs = null, IReadOnlyList<long>? ints = null, IReadOnlyList<string>? ss = null)
    {
        Kind = kind; Float = f; Int = i; String = s; Tensor = t; Floats = fs; Ints = ints; Strings = ss;
    }

    /// <summary>A float attribute.</summary>
    public static AttributeValue FromFloat(float value) => new(AttributeKind.Float, f: value);
    /// <summary>An integer attribute.</summary>
    public static AttributeValue FromInt(long value) => new(AttributeKind.Int, i: value);
    /// <summary>A string attribute.</summary>
    public static AttributeValue FromString(string value) => new(AttributeKind.String, s: value);
    /// <summary>A tensor attribute.</summary>
    public static AttributeValue FromTensor(torch.Tensor value) => new(AttributeKind.Tensor, t: value);
    /// <summary>A float-list attribute.</summary>
    public static AttributeValue FromFloats(IReadOnlyList<float> value) => new(AttributeKind.Floats, fs: value);
    /// <summary>An integer-list attribute.</summary>
    public static AttributeValue FromInts(IReadOnlyList<long> value) => new(AttributeKind.Ints, ints: value);
    /// <summary>A string-list attribute.</summary>
    public static AttributeValue FromStrings(IReadOnlyList<string> value) => new(AttributeKind.Strings, ss: value);
    /// <summary>A subgraph attribute, which this executor does not run.</summary>
    public static AttributeValue Subgraph() => new(AttributeKind.Graph);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        AttributeKind.Float => Float.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        AttributeKind.Int => Int.ToString(System.Globalization.CultureInfo.InvariantCulture),
        AttributeKind.String => $"\"{String}\"",
        AttributeKind.Tensor => $"tensor{string.Join("x", Tensor!.shape)}",
        AttributeKind.Floats => $"[{string.Join(",", Floats!)}]",
        AttributeKind.Ints => $"[{string.Join(",", Ints!)}]",
        AttributeKind.Strings => $"[{string.Join(",", Strings!)}]",
        _ => "graph",
    };
}
