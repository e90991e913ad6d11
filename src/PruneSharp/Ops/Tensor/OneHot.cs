using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>OneHot</c>: inserts a dimension of size depth at <c>axis</c> (default -1) holding values[1] at each index
/// and values[0] elsewhere. Negative indices count from depth; indices outside [-depth, depth) give all values[0].
/// </summary>
public sealed class OneHot : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "OneHot" };

    /// <inheritdoc />
    public override int MinOpset => 9;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long axis = node.GetInt("axis", -1);
        return Single(inputs =>
        {
            Tensor indices = inputs[0]!, values = inputs[2]!;
            long depth = inputs[1]!.to_type(ScalarType.Float64).reshape(-1)[0].item<double>() is var d && d >= 1 ? (long)d
                : throw OpArgs.Error(node, "depth must be at least 1");
            if (values.numel() != 2) throw OpArgs.Error(node, $"values must hold [off, on], it holds {values.numel()} elements");
            long a = OpArgs.Axis(node, axis, indices.dim() + 1);
            Tensor i = indices.to_type(ScalarType.Int64);
            i = where(i < 0, i + depth, i).unsqueeze(-1);
            Tensor hot = i.eq(arange(depth, ScalarType.Int64, i.device));
            Tensor flat = values.reshape(2);
            return where(hot, flat[1], flat[0]).movedim(new long[] { -1 }, new[] { a });
        });
    }
}
