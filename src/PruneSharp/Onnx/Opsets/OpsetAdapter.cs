using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>
/// Rewrites the nodes of one op between the opset <see cref="OpsetConversion.Target"/> form and an older opset's form,
/// for an op whose inputs, attributes or meaning changed between opset <see cref="OpsetConversion.Oldest"/> and the target.
/// </summary>
abstract class OpsetAdapter
{
    /// <summary>The op types this adapter reads at old opsets.</summary>
    public abstract IReadOnlyList<string> OldOpTypes { get; }

    /// <summary>The op types this adapter writes back at old opsets (op types at the target opset).</summary>
    public abstract IReadOnlyList<string> NewOpTypes { get; }

    /// <summary>The nodes that do at the target opset what <paramref name="node"/> does at <paramref name="opset"/>.</summary>
    /// <exception cref="GraphException">The node is malformed, or its op does not exist at <paramref name="opset"/>.</exception>
    public abstract IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context);

    /// <summary>The nodes that do at <paramref name="opset"/> what the target-opset <paramref name="node"/> does.</summary>
    /// <exception cref="GraphException">The node cannot be expressed at <paramref name="opset"/>; the message says why.</exception>
    public abstract IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context);

    /// <summary>A node like <paramref name="node"/> with a new op type, inputs and attributes.</summary>
    protected static Node Rebuild(Node node, string opType, IEnumerable<string> inputs, IDictionary<string, AttributeValue> attributes) =>
        new(node.Name, opType, inputs, node.Outputs, attributes);

    /// <summary>The node's attributes without <paramref name="names"/>.</summary>
    protected static Dictionary<string, AttributeValue> Without(Node node, params string[] names) =>
        node.Attributes.Where(a => !names.Contains(a.Key)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);

    /// <summary>Inputs with trailing omitted ("") ones dropped.</summary>
    protected static List<string> Trimmed(IEnumerable<string> inputs)
    {
        var list = inputs.ToList();
        while (list.Count > 0 && list[^1].Length == 0) list.RemoveAt(list.Count - 1);
        return list;
    }

    protected static GraphException Malformed(Node node, string what) => new($"node '{node.Name}' ({node.OpType}): {what}");

    protected static GraphException Inexpressible(Node node, int opset, string why) =>
        new($"node '{node.Name}' ({node.OpType}) cannot be written at opset {opset}: {why}");

    /// <summary>The constant 1-D integer values at input <paramref name="index"/>, or null when it is omitted.</summary>
    /// <exception cref="GraphException">The input is computed at run time.</exception>
    protected static long[]? ConstantInts(Node node, int index, int opset, ConversionContext context, string what)
    {
        if (node.InputOrNull(index) is not { } name) return null;
        var value = context.Constant(name) ?? throw Inexpressible(node, opset, $"its {what} are computed at run time, and opset {opset} takes them as an attribute");
        return value.to_type(TorchSharp.torch.int64).cpu().data<long>().ToArray();
    }

    /// <summary>The constant scalar at input <paramref name="index"/>, or null when it is omitted.</summary>
    protected static double? ConstantScalar(Node node, int index, int opset, ConversionContext context, string what)
    {
        if (node.InputOrNull(index) is not { } name) return null;
        var value = context.Constant(name) ?? throw Inexpressible(node, opset, $"its {what} is computed at run time, and opset {opset} takes it as an attribute");
        if (value.numel() != 1) throw Malformed(node, $"{what} has {value.numel()} values, expected one");
        return value.to_type(TorchSharp.torch.float64).cpu().item<double>();
    }
}
