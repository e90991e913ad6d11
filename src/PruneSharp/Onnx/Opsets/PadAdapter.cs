using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>Pad before opset 11 takes <c>pads</c> and the constant <c>value</c> as attributes; from 11 as inputs.</summary>
sealed class PadAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "Pad" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "Pad" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context)
    {
        var pads = node.GetInts("pads") ?? throw Malformed(node, $"the 'pads' attribute is missing (required at opset {opset})");
        string mode = node.GetString("mode", "constant");
        var inputs = new List<string> { node.Inputs[0], context.AddInts($"{node.Name}_pads", pads) };
        float value = node.GetFloat("value", 0f);
        if (mode == "constant" && value != 0) inputs.Add(context.AddScalar($"{node.Name}_value", value, context.FloatType(node.Inputs[0])));
        return new[] { Rebuild(node, "Pad", inputs, Without(node, "pads", "value")) };
    }

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context)
    {
        string mode = node.GetString("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge")) throw Inexpressible(node, opset, $"mode '{mode}' exists from opset 19");
        var attributes = Without(node);
        attributes["pads"] = AttributeValue.FromInts(ConstantInts(node, 1, opset, context, "pads") ?? throw Malformed(node, "the pads input is missing"));
        if (ConstantScalar(node, 2, opset, context, "constant value") is double value) attributes["value"] = AttributeValue.FromFloat((float)value);
        return new[] { Rebuild(node, "Pad", new[] { node.Inputs[0] }, attributes) };
    }
}
