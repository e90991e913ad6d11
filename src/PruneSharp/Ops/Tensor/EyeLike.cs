using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>EyeLike</c>: a 2-D tensor shaped like the input with ones on diagonal k, of the type <c>dtype</c> (default the input's).</summary>
public sealed class EyeLike : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "EyeLike" };

    /// <inheritdoc />
    public override int MinOpset => 9;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long k = node.GetInt("k", 0);
        ScalarType? type = node.Attributes.ContainsKey("dtype") ? ((DataType)node.GetInt("dtype", 1)).ToScalarType() : null;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            if (x.dim() != 2) throw OpArgs.Error(node, $"the input must have rank 2, it has rank {x.dim()}");
            Tensor column = arange(x.shape[1], ScalarType.Int64, x.device), row = arange(x.shape[0], ScalarType.Int64, x.device).unsqueeze(1);
            return (column - row).eq(k).to_type(type ?? x.dtype);
        });
    }
}
