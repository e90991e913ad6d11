using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>Scatter (opsets 9 and 10) is ScatterElements from opset 11, with the same inputs and axis.</summary>
sealed class ScatterAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "Scatter" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "ScatterElements" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context) => opset >= 9
        ? new[] { Rebuild(node, "ScatterElements", node.Inputs, Without(node)) }
        : throw new UnsupportedOpException($"node '{node.Name}': op Scatter does not exist at opset {opset} (it was added at opset 9)");

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context)
    {
        if (opset < 9) throw Inexpressible(node, opset, "Scatter exists from opset 9");
        if (node.GetInt("axis", 0) < 0) throw Inexpressible(node, opset, $"negative axes are allowed from opset {OpsetConversion.Target}");
        return new[] { Rebuild(node, "Scatter", node.Inputs, Without(node)) };
    }
}
