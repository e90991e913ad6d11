using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>TopK</c>: the k largest (or smallest, <c>largest</c>=0) values along <c>axis</c> (default -1) and their
/// int64 indices, in order; equal values keep the lower index first. k is an attribute before opset 10, then an input.
/// </summary>
public sealed class TopK : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "TopK" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long axis = node.GetInt("axis", -1);
        bool largest = node.GetInt("largest", 1) != 0;
        long? kAttribute = context.Opset < 10 ? node.GetInt("k", -1) : null;
        var kInput = OpArgs.IntsInput(node, context, 1);
        return (inputs, _) =>
        {
            Tensor x = inputs[0]!;
            long a = OpArgs.Axis(node, axis, x.dim());
            long k = kAttribute ?? (kInput(inputs) is { Length: 1 } ks ? ks[0] : throw OpArgs.Error(node, "K must be a tensor of one element"));
            if (k < 0 || k > x.shape[a]) throw OpArgs.Error(node, $"k = {k} is outside [0, {x.shape[a]}] for axis {a}");
            var (values, indices) = x.sort(a, descending: largest, stable: true);
            return new[] { values.narrow(a, 0, k), indices.narrow(a, 0, k) };
        };
    }
}
