using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Trilu</c>: keeps the upper (default) or lower triangle of the last two dimensions, shifted by the optional diagonal offset k.</summary>
public sealed class Trilu : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Trilu" };

    /// <inheritdoc />
    public override int MinOpset => 14;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool upper = node.GetInt("upper", 1) != 0;
        var kOf = OpArgs.IntsInput(node, context, 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            if (x.dim() < 2) throw OpArgs.Error(node, $"the input must have rank 2 or more, it has rank {x.dim()}");
            long k = kOf(inputs) is { Length: > 0 } ks ? ks[0] : 0;
            return upper ? x.triu(k) : x.tril(k);
        });
    }
}
