using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>Clip before opset 11 takes <c>min</c> and <c>max</c> as attributes; from 11 as optional scalar inputs.</summary>
sealed class ClipAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "Clip" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "Clip" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context)
    {
        var type = context.FloatType(node.Inputs[0]);
        string Bound(string name) => node.Attributes.ContainsKey(name)
            ? context.AddScalar($"{node.Name}_{name}", node.GetFloat(name, 0f), type)
            : "";
        return new[] { Rebuild(node, "Clip", Trimmed(new[] { node.Inputs[0], Bound("min"), Bound("max") }), Without(node, "min", "max")) };
    }

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context)
    {
        var attributes = Without(node);
        if (ConstantScalar(node, 1, opset, context, "min") is double min) attributes["min"] = AttributeValue.FromFloat((float)min);
        if (ConstantScalar(node, 2, opset, context, "max") is double max) attributes["max"] = AttributeValue.FromFloat((float)max);
        return new[] { Rebuild(node, "Clip", new[] { node.Inputs[0] }, attributes) };
    }
}
