using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>
/// Kernel-pattern pruning (PatDNN/PCONV): every k×k kernel of a convolution keeps the pattern of its
/// <see cref="KernelPatternSet"/> whose kept scores sum highest (ties: the earlier pattern in the set). Combine with
/// <see cref="KernelGranularity"/> (connectivity pruning) in an earlier round to also remove whole kernels.
/// </summary>
public sealed class KernelPatternGranularity : PatternGranularity
{
    readonly Tensor _patterns;

    /// <summary>Creates the granularity for <paramref name="patterns"/>.</summary>
    public KernelPatternGranularity(KernelPatternSet patterns)
    {
        Set = patterns;
        int size = patterns.KernelSize * patterns.KernelSize;
        var flags = patterns.Patterns.SelectMany(p => p.Select(b => b ? 1f : 0f)).ToArray();
        _patterns = tensor(flags, new long[] { patterns.Patterns.Count, size }).DetachFromDisposeScope();
    }

    /// <summary>The allowed patterns.</summary>
    public KernelPatternSet Set { get; }

    /// <inheritdoc />
    public override string Name => $"pattern{Set.Entries}of{Set.KernelSize * Set.KernelSize}x{Set.Patterns.Count}";

    /// <inheritdoc />
    public override double Density => (double)Set.Entries / (Set.KernelSize * Set.KernelSize);

    /// <inheritdoc />
    public override string? CannotSplit(string name, IReadOnlyList<long> shape)
    {
        int k = Set.KernelSize;
        return shape.Count != 4 || shape[2] != k || shape[3] != k
            ? $"{k}x{k} kernel patterns need a convolution weight [out, in, {k}, {k}]; '{name}' has shape {Shape(shape)}" : null;
    }

    /// <inheritdoc />
    public override Tensor ToUnits(string name, Tensor values)
    {
        CheckSplit(name, values);
        return values.reshape(-1, Set.KernelSize * Set.KernelSize);
    }

    /// <inheritdoc />
    public override Tensor FromUnits(Tensor units, long[] shape) => units.reshape(shape);

    /// <inheritdoc />
    public override Tensor SelectKeep(Tensor scores)
    {
        // Pruned entries (−∞) count as 0 so that a pattern over them is merely worthless, not −∞.
        var finite = scores.clamp_min(0);
        var best = finite.matmul(_patterns.to(finite.device).t()).argmax(1);
        return _patterns.to(finite.device)[best].to(ScalarType.Bool);
    }
}
