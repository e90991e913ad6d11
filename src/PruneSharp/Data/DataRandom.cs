namespace PruneSharp.Data;

/// <summary>
/// A small, seedable random generator (SplitMix64) whose stream is a pure function of its seed and a list of keys
/// (e.g. epoch and batch index). Data order and augmentation are derived from such streams, so a resumed run sees
/// exactly the batches an uninterrupted run would have seen, with no generator state to save.
/// </summary>
public sealed class DataRandom
{
    ulong _state;

    /// <summary>A generator for <paramref name="seed"/> and the stream identified by <paramref name="keys"/>.</summary>
    public DataRandom(long seed, params long[] keys)
    {
        _state = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        foreach (long key in keys) _state = Mix(_state ^ Mix((ulong)key + 0x632BE59BD9B4E019UL));
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A uniform integer in <c>[0, maxExclusive)</c> (rejection sampling, no modulo bias).</summary>
    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "must be positive");
        ulong bound = (ulong)maxExclusive, limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % bound);
    }

    /// <summary>A uniform double in <c>[0, 1)</c>.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
