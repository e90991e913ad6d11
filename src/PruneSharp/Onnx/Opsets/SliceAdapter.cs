using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>Slice before opset 10 takes starts, ends and axes as attributes; from 10 as inputs (with steps).</summary>
sealed class SliceAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "Slice" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "Slice" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context)
    {
        if (opset >= 10) return new[] { node };
        var starts = node.GetInts("starts") ?? throw Malformed(node, $"the 'starts' attribute is missing (required at opset {opset})");
        var ends = node.GetInts("ends") ?? throw Malformed(node, $"the 'ends' attribute is missing (required at opset {opset})");
        var inputs = new List<string> { node.Inputs[0], context.AddInts($"{node.Name}_starts", starts), context.AddInts($"{node.Name}_ends", ends) };
        if (node.GetInts("axes") is { } axes) inputs.Add(context.AddInts($"{node.Name}_axes", axes));
        return new[] { Rebuild(node, "Slice", inputs, Without(node, "starts", "ends", "axes")) };
    }

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context)
    {
        if (opset >= 10)
        {
            if (context.Constant(node.InputOrNull(3)) is { } axesInput && axesInput.lt(0).any().item<bool>())
                throw Inexpressible(node, opset, $"negative axes are allowed from opset {OpsetConversion.Target}");
            return new[] { node };
        }
        long[] starts = ConstantInts(node, 1, opset, context, "starts")!, ends = ConstantInts(node, 2, opset, context, "ends")!;
        long[]? axes = ConstantInts(node, 3, opset, context, "axes");
        if (ConstantInts(node, 4, opset, context, "steps") is { } steps && steps.Any(s => s != 1))
            throw Inexpressible(node, opset, "steps other than 1 exist from opset 10");
        if (axes != null && axes.Any(a => a < 0)) throw Inexpressible(node, opset, $"negative axes are allowed from opset {OpsetConversion.Target}");
        var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            ["starts"] = AttributeValue.FromInts(starts),
            ["ends"] = AttributeValue.FromInts(ends),
        };
        if (axes != null) attributes["axes"] = AttributeValue.FromInts(axes);
        return new[] { Rebuild(node, "Slice", new[] { node.Inputs[0] }, attributes) };
    }
}
