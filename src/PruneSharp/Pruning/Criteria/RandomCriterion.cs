using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// Random: uniform [0, 1) scores from a generator seeded by the seed and the parameter's name, so the same seed
/// prunes the same weights, whatever order the parameters are scored in. The baseline every criterion must beat.
/// </summary>
public sealed class RandomCriterion(long seed) : Criterion
{
    /// <summary>The seed.</summary>
    public long Seed { get; } = seed;

    /// <inheritdoc />
    public override string Name => "random";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context)
    {
        using var generator = new Generator((ulong)(Seed ^ StableHash(name)));
        return rand(weight.shape, generator: generator, dtype: ScalarType.Float32, device: weight.device);
    }

    // FNV-1a: string.GetHashCode differs between processes.
    static long StableHash(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211UL;
        return (long)(hash & 0x7FFF_FFFF_FFFF_FFFFUL);
    }
}
