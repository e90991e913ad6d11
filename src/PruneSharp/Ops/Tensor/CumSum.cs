using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>CumSum</c>: running sums along the axis input; <c>exclusive</c> leaves out the element itself, <c>reverse</c> sums from the end.</summary>
public sealed class CumSum : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "CumSum" };

    /// <inheritdoc />
    public override int MinOpset => 11;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool exclusive = node.GetInt("exclusive", 0) != 0, reverse = node.GetInt("reverse", 0) != 0;
        var axisOf = OpArgs.IntsInput(node, context, 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long a = OpArgs.Axis(node, axisOf(inputs) is { Length: 1 } axes ? axes[0] : throw OpArgs.Error(node, "axis must be one integer"), x.dim());
            Tensor source = reverse ? x.flip(a) : x;
            Tensor sums = source.cumsum(a, type: x.dtype);
            if (exclusive && x.shape[a] > 0)
            {
                long[] first = OpArgs.Shape(x);
                first[a] = 1;
                sums = cat(new[] { zeros(first, x.dtype, x.device), sums.narrow(a, 0, x.shape[a] - 1) }, a);
            }
            return reverse ? sums.flip(a) : sums;
        });
    }
}
