using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>Element-wise comparisons with broadcasting, giving bool tensors: Equal, Less, LessOrEqual, Greater, GreaterOrEqual.</summary>
public sealed class Comparison : OpFamily
{
    static readonly Dictionary<string, Func<Tensor, Tensor, Tensor>> Functions = new()
    {
        ["Equal"] = (a, b) => a.eq(b),
        ["Less"] = (a, b) => a.lt(b),
        ["LessOrEqual"] = (a, b) => a.le(b),
        ["Greater"] = (a, b) => a.gt(b),
        ["GreaterOrEqual"] = (a, b) => a.ge(b),
    };

    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => Functions.Keys.ToList();

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var f = Functions[node.OpType];
        return Single(inputs => f(inputs[0]!, inputs[1]!));
    }
}
