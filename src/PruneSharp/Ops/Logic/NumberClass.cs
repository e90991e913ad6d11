using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>IsNaN</c> and <c>IsInf</c> (which infinities count is set by <c>detect_positive</c> and <c>detect_negative</c>).</summary>
public sealed class NumberClass : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "IsNaN", "IsInf" };

    /// <inheritdoc />
    public override int MinOpset => 9;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (node.OpType == "IsNaN") return Single(inputs => inputs[0]!.isnan());
        bool positive = node.GetInt("detect_positive", 1) != 0, negative = node.GetInt("detect_negative", 1) != 0;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            return positive && negative ? x.isinf()
                : positive ? x.isposinf()
                : negative ? x.isneginf()
                : zeros_like(x, ScalarType.Bool);
        });
    }
}
