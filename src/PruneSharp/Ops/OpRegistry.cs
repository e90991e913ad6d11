using PruneSharp.Graph;

namespace PruneSharp.Ops;

/// <summary>Finds the <see cref="OpFamily"/> for an op type. <see cref="Default"/> holds every op PruneSharp runs.</summary>
public sealed class OpRegistry
{
    /// <summary>The newest default-domain opset the executor accepts.</summary>
    public const int MaxOpset = 21;

    readonly Dictionary<string, OpFamily> _families = new(StringComparer.Ordinal);

    /// <summary>Creates a registry holding <paramref name="families"/>.</summary>
    public OpRegistry(IEnumerable<OpFamily> families)
    {
        foreach (var family in families)
            foreach (string opType in family.OpTypes)
                if (!_families.TryAdd(opType, family))
                    throw new ArgumentException($"op type '{opType}' is registered twice");
    }

    /// <summary>The registry with every built-in op family.</summary>
    public static OpRegistry Default { get; } = new(BuiltInOps.All());

    /// <summary>Every supported op type, sorted.</summary>
    public IReadOnlyList<string> SupportedOpTypes => _families.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The family for <paramref name="node"/>'s op type.</summary>
    /// <exception cref="UnsupportedOpException">The op type, its domain or the opset is not supported.</exception>
    public OpFamily Find(Node node, int opset)
    {
        bool defaultDomain = node.Domain is "" or "ai.onnx";
        OpFamily? family = defaultDomain ? _families.GetValueOrDefault(node.OpType) : null;
        if (family != null && opset >= family.MinOpset && opset <= MaxOpset)
            return family;
        string why = !defaultDomain ? $"domain '{node.Domain}' is not supported"
            : family != null ? $"opset {opset} is outside the supported range {family.MinOpset}..{MaxOpset}"
            : "the op type is not supported";
        throw new UnsupportedOpException(
            $"node '{node.Name}': op {node.OpType} (opset {opset}): {why}. Supported ops: {string.Join(", ", SupportedOpTypes)}");
    }
}
