using static TorchSharp.torch;

namespace PruneSharp.Pruning.Allocation;

/// <summary>Selecting exactly k of n scores without sorting them all.</summary>
public static class ExactSelection
{
    const long SampleSize = 1 << 16;

    /// <summary>
    /// The keep-mask (bool) of 1-D <paramref name="scores"/> after removing exactly <paramref name="k"/> lowest
    /// scores; among equal scores the lower index is removed first.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is not in [0, n].</exception>
    public static Tensor KeepAllButLowest(Tensor scores, long k) => KeepAllButLowestAcross(new[] { scores }, k)[0];

    /// <summary>
    /// Keep-masks for several 1-D score tensors treated as one concatenation: exactly <paramref name="k"/> of the
    /// lowest scores over all of them are removed; among equal scores the lower index in the concatenation goes
    /// first. Linear time and no concatenation of large tensors: the k-th value is bracketed with a seeded sample,
    /// only the scores inside the bracket are gathered and selected from, and a miss of the bracket falls back to
    /// an exact k-th value over everything. The result never depends on the sample, only the running time does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is not in [0, n].</exception>
    public static Tensor[] KeepAllButLowestAcross(IReadOnlyList<Tensor> scores, long k)
    {
        long n = scores.Sum(s => s.numel());
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"cannot remove {k} of {n} scores");
        if (k == 0) return scores.Select(s => ones(s.numel(), dtype: ScalarType.Bool, device: s.device)).ToArray();
        if (k == n) return scores.Select(s => zeros(s.numel(), dtype: ScalarType.Bool, device: s.device)).ToArray();
        using var scope = NewDisposeScope();
        Tensor threshold = Threshold(scores, k, n);
        var keeps = new Tensor[scores.Count];
        var ties = new Tensor?[scores.Count];
        long above = 0, tied = 0;
        for (int i = 0; i < scores.Count; i++)
        {
            keeps[i] = scores[i].gt(threshold);
            above += keeps[i].count_nonzero().item<long>();
        }
        // Scores equal to the k-th value (float32 ties are common in large layers): the first ones by index go,
        // the rest stay. There are few of them, so their indices are listed.
        for (int i = 0; i < scores.Count; i++)
        {
            ties[i] = scores[i].eq(threshold).nonzero().reshape(-1);
            tied += ties[i]!.numel();
        }
        long removeTies = k - (n - above - tied);
        for (int i = 0; i < scores.Count; i++)
        {
            long count = ties[i]!.numel(), removed = Math.Min(count, Math.Max(0, removeTies));
            removeTies -= removed;
            if (removed < count) keeps[i][ties[i]!.narrow(0, removed, count - removed)] = tensor(true);
        }
        foreach (var keep in keeps) keep.MoveToOuterDisposeScope();
        return keeps;
    }

    /// <summary>The k-th smallest score (1-based) over all tensors.</summary>
    static Tensor Threshold(IReadOnlyList<Tensor> scores, long k, long n)
    {
        if (n > 4 * SampleSize)
        {
            // Bracket the k-th value between two quantiles of a sample, ± 6 standard errors of the sample quantile.
            using var generator = new Generator(0x5eed);
            var sample = cat(scores.Where(s => s.numel() > 0).Select(s =>
                s[randint(0, s.numel(), (long)Math.Ceiling((double)SampleSize * s.numel() / n), generator: generator, device: s.device)]).ToArray());
            var sorted = sample.sort().Values;
            double q = (double)k / n, margin = 6 * Math.Sqrt(q * (1 - q) / sorted.numel()) + 2.0 / sorted.numel();
            long m = sorted.numel();
            var lo = sorted[Math.Clamp((long)Math.Floor((q - margin) * m), 0, m - 1)];
            var hi = sorted[Math.Clamp((long)Math.Ceiling((q + margin) * m), 0, m - 1)];
            long below = 0;
            var candidates = new List<Tensor>();
            foreach (var s in scores)
            {
                below += s.lt(lo).count_nonzero().item<long>();
                candidates.Add(s[s.ge(lo).logical_and_(s.le(hi)).nonzero().reshape(-1)]);
            }
            long inside = candidates.Sum(c => c.numel());
            if (k > below && k <= below + inside) return cat(candidates.ToArray()).kthvalue(k - below, 0).values;
        }
        return cat(scores.ToArray()).kthvalue(k, 0).values;
    }

    /// <summary>round(s·n) with ties to even: the number of units pruned at sparsity <paramref name="sparsity"/> of <paramref name="count"/>.</summary>
    public static long PrunedCount(double sparsity, long count) => (long)Math.Round(sparsity * count, MidpointRounding.ToEven);
}
