using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Expand</c>: broadcasts the input and the given shape against each other (either may be the larger).</summary>
public sealed class Expand : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Expand" };

    /// <inheritdoc />
    public override int MinOpset => 8;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var shapeOf = OpArgs.IntsInput(node, context, 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] target = shapeOf(inputs) ?? throw OpArgs.Error(node, "shape is missing");
            return x.expand(Broadcast(node, OpArgs.Shape(x), target));
        });
    }

    /// <summary>The NumPy broadcast of two shapes.</summary>
    internal static long[] Broadcast(Node node, long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            long x = d - rank + a.Length >= 0 ? a[d - rank + a.Length] : 1;
            long y = d - rank + b.Length >= 0 ? b[d - rank + b.Length] : 1;
            if (x != y && x != 1 && y != 1)
                throw OpArgs.Error(node, $"shapes [{string.Join(",", a)}] and [{string.Join(",", b)}] do not broadcast");
            result[d] = x == 1 ? y : x;
        }
        return result;
    }
}
