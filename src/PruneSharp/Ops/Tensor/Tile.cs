using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Tile</c>: repeats the input <c>repeats[d]</c> times along each dimension d.</summary>
public sealed class Tile : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Tile" };

    /// <inheritdoc />
    public override int MinOpset => 6;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var repeatsOf = OpArgs.IntsInput(node, context, 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] repeats = repeatsOf(inputs) ?? throw OpArgs.Error(node, "repeats are missing");
            if (repeats.Length != x.dim() || repeats.Any(r => r < 0))
                throw OpArgs.Error(node, $"repeats [{string.Join(",", repeats)}] must hold one non-negative count per input dimension ({x.dim()})");
            Engine.MemoryGuard.CheckComputed(node, x.shape.Zip(repeats, (d, r) => (double)d * r >= long.MaxValue ? long.MaxValue : d * r).ToArray(), x.dtype);
            return x.dim() == 0 ? x.clone() : x.repeat(repeats);
        });
    }
}
