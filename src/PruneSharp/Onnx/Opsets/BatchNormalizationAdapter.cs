using PruneSharp.Graph;

namespace PruneSharp.Onnx.Opsets;

/// <summary>
/// BatchNormalization before opset 9 has a <c>spatial</c> attribute: 1 (the default) normalises per channel, as
/// later versions always do; 0 normalises per element with scale, bias, mean and variance of shape (C, D1, ..., Dn),
/// which becomes element-wise arithmetic (x − mean) / √(var + ε) · scale + bias. A legacy <c>consumed_inputs</c> is dropped.
/// </summary>
sealed class BatchNormalizationAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "BatchNormalization" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "BatchNormalization" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context)
    {
        if (node.GetInt("spatial", 1) != 0)
            return new[] { Rebuild(node, node.OpType, node.Inputs, Without(node, "spatial", "consumed_inputs")) };
        if (node.Inputs.Count != 5 || node.Inputs.Any(i => i.Length == 0)) throw Malformed(node, $"takes 5 inputs, got {node.Inputs.Count}");
        if (node.Outputs.Skip(1).Any(context.IsUsed))
            throw new UnsupportedOpException($"node '{node.Name}': BatchNormalization with spatial=0 (opset {opset}) has no upgrade to opset {OpsetConversion.Target} when its training outputs are used");
        string x = node.Inputs[0], scale = node.Inputs[1], bias = node.Inputs[2], mean = node.Inputs[3], variance = node.Inputs[4];
        string epsilon = context.AddScalar($"{node.Name}_epsilon", node.GetFloat("epsilon", 1e-5f), context.FloatType(x));
        string centered = context.Fresh($"{node.Name}_centered"), shifted = context.Fresh($"{node.Name}_variance_epsilon");
        string deviation = context.Fresh($"{node.Name}_deviation"), normalized = context.Fresh($"{node.Name}_normalized");
        string scaled = context.Fresh($"{node.Name}_scaled");
        Node Op(string op, string a, string b, string output) => new(context.Fresh($"{node.Name}_{op}"), op, new[] { a, b }, new[] { output });
        return new[]
        {
            Op("Sub", x, mean, centered),
            Op("Add", variance, epsilon, shifted),
            new Node(context.Fresh($"{node.Name}_Sqrt"), "Sqrt", new[] { shifted }, new[] { deviation }),
            Op("Div", centered, deviation, normalized),
            Op("Mul", normalized, scale, scaled),
            Op("Add", scaled, bias, node.Outputs[0]),
        };
    }

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context) => new[] { node };
}
