using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Gemm</c>: Y = alpha·op(A)·op(B) + beta·C, with optional transposes; the fully connected layer of ONNX exports.</summary>
public sealed class Gemm : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Gemm" };

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
