using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>TopK before opset 10 takes <c>k</c> as an attribute; from 10 as an input. Opset 11 adds <c>largest</c> and <c>sorted</c>.</summary>
sealed class TopKAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "TopK" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "TopK" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context)
    {
        if (opset >= 10) return new[] { node };
        long k = node.Attributes.ContainsKey("k") ? node.GetInt("k", 0) : throw Malformed(node, $"the 'k' attribute is missing (required at opset {opset})");
        return new[] { Rebuild(node, "TopK", new[] { node.Inputs[0], context.AddInts($"{node.Name}_k", new[] { k }) }, Without(node, "k")) };
    }

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context)
    {
        if (node.GetInt("largest", 1) != 1 || node.GetInt("sorted", 1) != 1)
            throw Inexpressible(node, opset, $"the smallest or unsorted values are available from opset {OpsetConversion.Target}");
        if (opset >= 10) return new[] { node };
        long[] k = ConstantInts(node, 1, opset, context, "k") ?? throw Malformed(node, "the k input is missing");
        if (k.Length != 1) throw Malformed(node, $"k has {k.Length} values, expected one");
        var attributes = Without(node, "largest", "sorted");
        attributes["k"] = AttributeValue.FromInt(k[0]);
        return new[] { Rebuild(node, "TopK", new[] { node.Inputs[0] }, attributes) };
    }
}
