using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>Element-wise ops of two inputs with NumPy-style broadcasting (opset 7 and later).</summary>
public sealed class BinaryOps : OpFamily
{
    static readonly Dictionary<string, Func<Tensor, Tensor, Tensor>> Functions = new()
    {
        ["Add"] = (a, b) => a + b,
        ["Sub"] = (a, b) => a - b,
        ["Mul"] = (a, b) => a * b,
        ["Div"] = Divide,
        ["Pow"] = (a, b) => a.pow(b).to_type(a.dtype),
    };

    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => Functions.Keys.ToList();

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.Elementwise(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var f = Functions[node.OpType];
        return Single(inputs => f(inputs[0]!, inputs[1]!));
    }

    // ONNX integer division truncates toward zero, like C.
    static Tensor Divide(Tensor a, Tensor b) =>
        is_integral(a.dtype) ? a.div(b, RoundingMode.trunc) : a / b;
}
