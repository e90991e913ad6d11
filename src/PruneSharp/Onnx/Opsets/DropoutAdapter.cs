using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>
/// Dropout's mask output is of the data's float type before opset 10 and boolean from 10; a legacy <c>is_test</c>
/// attribute (removed at opset 7) is dropped. A used mask is cast back to the float type it had.
/// </summary>
sealed class DropoutAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "Dropout" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "Dropout" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context)
    {
        var dropout = Rebuild(node, "Dropout", node.Inputs, Without(node, "is_test"));
        if (opset >= 10 || node.Outputs.Count < 2 || !context.IsUsed(node.Outputs[1])) return new[] { dropout };
        string mask = node.Outputs[1], boolean = context.Fresh($"{mask}_bool");
        dropout.Outputs[1] = boolean;
        var to = new Dictionary<string, AttributeValue> { ["to"] = AttributeValue.FromInt((long)context.FloatType(node.Inputs[0]).ToDataType()) };
        return new[] { dropout, new Node(context.Fresh($"{node.Name}_mask_Cast"), "Cast", new[] { boolean }, new[] { mask }, to) };
    }

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context)
    {
        if (opset < 10 && node.Outputs.Count > 1 && context.IsUsed(node.Outputs[1]))
            throw Inexpressible(node, opset, "its boolean mask output is read, and before opset 10 the mask is of the data's type");
        return new[] { node };
    }
}
