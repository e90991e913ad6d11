using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>Element-wise ops of one input and no attributes: activations, rounding, trigonometric and hyperbolic functions.</summary>
public sealed class UnaryOps : OpFamily
{
    static readonly Dictionary<string, Func<Tensor, Tensor>> Functions = new()
    {
        ["Relu"] = x => nn.functional.relu(x),
        ["Sigmoid"] = x => x.sigmoid(),
        ["Tanh"] = x => x.tanh(),
        ["Exp"] = x => x.exp(),
        ["Log"] = x => x.log(),
        ["Sqrt"] = x => x.sqrt(),
        ["Neg"] = x => x.neg(),
        ["Abs"] = x => x.abs(),
        ["Erf"] = x => x.erf(),
        ["Identity"] = x => x,
        ["Reciprocal"] = x => x.reciprocal(),
        ["Floor"] = x => x.floor(),
        ["Ceil"] = x => x.ceil(),
        ["Round"] = x => x.round(), // halves to even, as ONNX
        ["Sign"] = x => x.sign(),
        ["Sin"] = x => x.sin(),
        ["Cos"] = x => x.cos(),
        ["Tan"] = x => x.tan(),
        ["Asin"] = x => x.asin(),
        ["Acos"] = x => x.acos(),
        ["Atan"] = x => x.atan(),
        ["Sinh"] = x => x.sinh(),
        ["Cosh"] = x => x.cosh(),
        ["Asinh"] = x => x.asinh(),
        ["Acosh"] = x => x.acosh(),
        ["Atanh"] = x => x.atanh(),
        ["Softsign"] = x => x / (x.abs() + 1),
        ["Softplus"] = x => nn.functional.softplus(x),
        ["HardSwish"] = x => nn.functional.hardswish(x),
        ["Mish"] = x => nn.functional.mish(x),
    };

    // Ops added after the executor's oldest opset.
    static readonly Dictionary<string, int> Introduced = new() { ["HardSwish"] = 14, ["Mish"] = 18 };

    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => Functions.Keys.ToList();

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (Introduced.TryGetValue(node.OpType, out int since) && context.Opset < since)
            throw new UnsupportedOpException($"node '{node.Name}': op {node.OpType} (opset {context.Opset}) exists from opset {since}");
        var f = Functions[node.OpType];
        return Single(inputs => f(inputs[0]!));
    }
}
