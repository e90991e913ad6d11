using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Gemm</c>: Y = alpha·op(A)·op(B) + beta·C, with optional transposes; the fully connected layer of ONNX exports.</summary>
public sealed class Gemm : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Gemm" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        bool transA = node.GetInt("transA", 0) != 0, transB = node.GetInt("transB", 0) != 0;
        if (!flow.IsWeight(node.Inputs[1]) || flow.Input(1) != null || flow.Input(2) != null)
        {
            if (flow.Input(0) != null || flow.Input(1) != null) flow.Block("Gemm without a weight initializer");
            return;
        }
        if (flow.Input(0) is { } features)
        {
            if (features.Axis != (transA ? 0 : 1)) { flow.Block("Gemm input channels on the batch axis"); return; }
            flow.Member(node.Inputs[1], transB ? 1 : 0, features.Labels, WeightRole.Reads);
        }
        var weight = flow.Shape(node.Inputs[1])!;
        var outputs = flow.NewSpace((int)weight[transB ? 0 : 1]);
        flow.Member(node.Inputs[1], transB ? 0 : 1, outputs, WeightRole.Produces);
        if (node.InputOrNull(2) is { } bias && flow.Shape(bias) is { } biasShape && biasShape.Length > 0 && biasShape[^1] == outputs.Length)
        {
            if (!flow.IsWeight(bias)) { flow.Block("Gemm bias is computed"); return; }
            flow.Member(bias, biasShape.Length - 1, outputs, WeightRole.PerChannel);
        }
        flow.SetOutput(0, 1, outputs);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        float alpha = node.GetFloat("alpha", 1f), beta = node.GetFloat("beta", 1f);
        bool transA = node.GetInt("transA", 0) != 0, transB = node.GetInt("transB", 0) != 0;
        return Single(inputs =>
        {
            Tensor a = transA ? inputs[0]!.t() : inputs[0]!;
            Tensor b = inputs[1]!;
            Tensor? c = inputs.Length > 2 ? inputs[2] : null;
            // The common PyTorch export (transB=1, alpha=beta=1) is exactly torch's linear layer.
            if (transB && alpha == 1f && beta == 1f && (c is null || c.dim() <= 1))
                return nn.functional.linear(a, b, c);
            Tensor y = a.matmul(transB ? b.t() : b);
            if (alpha != 1f) y = y * alpha;
            if (c is not null) y = beta == 1f ? y + c : y + c * beta;
            return y;
        });
    }
}
