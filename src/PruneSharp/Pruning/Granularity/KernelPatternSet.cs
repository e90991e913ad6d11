using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>
/// A set of allowed shapes (patterns) for the k×k kernels of a convolution, each with the same number of entries.
/// Two derivations: <see cref="AllWithCentre"/> (every pattern of that size containing the centre: 56 patterns of 4
/// entries in 3×3) and <see cref="MostFrequent"/> (PatDNN's way: the patterns that a model's own kernels prefer).
/// </summary>
public sealed class KernelPatternSet
{
    KernelPatternSet(int kernelSize, int entries, bool[][] patterns)
    {
        KernelSize = kernelSize;
        Entries = entries;
        Patterns = patterns;
    }

    /// <summary>The kernel side k.</summary>
    public int KernelSize { get; }

    /// <summary>Entries kept per kernel.</summary>
    public int Entries { get; }

    /// <summary>The patterns, each k·k flags in row-major order.</summary>
    public IReadOnlyList<bool[]> Patterns { get; }

    /// <summary>
    /// Every pattern of <paramref name="entries"/> positions in a k×k kernel that contains the centre, in
    /// lexicographic order of positions. k must be odd.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is even or below 3, or entries is not in [1, k·k).</exception>
    public static KernelPatternSet AllWithCentre(int kernelSize = 3, int entries = 4)
    {
        Check(kernelSize, entries);
        int size = kernelSize * kernelSize, centre = size / 2;
        var others = Enumerable.Range(0, size).Where(i => i != centre).ToArray();
        var patterns = new List<bool[]>();
        foreach (var combination in Combinations(others, entries - 1))
        {
            var pattern = new bool[size];
            pattern[centre] = true;
            foreach (int i in combination) pattern[i] = true;
            patterns.Add(pattern);
        }
        return new KernelPatternSet(kernelSize, entries, patterns.ToArray());
    }

    /// <summary>
    /// The <paramref name="count"/> patterns that occur most often when every kernel keeps its centre and its
    /// (entries − 1) highest-scoring other positions (PatDNN). <paramref name="kernelScores"/> are element scores
    /// of convolution weights [out, in, k, k] (e.g. magnitudes). Ties in frequency go to the pattern whose position
    /// bitmask is smaller.
    /// </summary>
    /// <exception cref="PruningException">A tensor is not a k×k convolution weight, or no kernel is given.</exception>
    public static KernelPatternSet MostFrequent(IEnumerable<Tensor> kernelScores, int count, int kernelSize = 3, int entries = 4)
    {
        Check(kernelSize, entries);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "the pattern count must be at least 1");
        int size = kernelSize * kernelSize, centre = size / 2;
        using var scope = NewDisposeScope();
        var codes = new List<Tensor>();
        var powers = pow(tensor(2L), arange(size, dtype: ScalarType.Int64));
        foreach (var scores in kernelScores)
        {
            if (scores.dim() != 4 || scores.shape[2] != kernelSize || scores.shape[3] != kernelSize)
                throw new PruningException($"pattern statistics need {kernelSize}x{kernelSize} convolution weights; got shape [{string.Join(",", scores.shape)}]");
            var flat = scores.detach().reshape(-1, size).to(ScalarType.Float32).clone();
            flat[TensorIndex.Colon, centre] = tensor(float.PositiveInfinity);
            var top = flat.topk(entries, 1).indexes;
            codes.Add(powers[top].sum(1));
        }
        if (codes.Count == 0) throw new PruningException("pattern statistics need at least one convolution weight");
        var (unique, _, counts) = cat(codes.ToArray()).unique(sorted: true, return_counts: true);
        // unique is ascending by code; a stable descending sort by count keeps the smaller code first among ties.
        var order = counts!.sort(0, descending: true, stable: true).Indices;
        long[] chosen = unique[order].data<long>().ToArray().Take(count).ToArray();
        var patterns = chosen.Select(code => Enumerable.Range(0, size).Select(i => ((code >> i) & 1) == 1).ToArray()).ToArray();
        return new KernelPatternSet(kernelSize, entries, patterns);
    }

    static void Check(int kernelSize, int entries)
    {
        if (kernelSize < 3 || kernelSize % 2 == 0)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "kernel patterns need an odd kernel size of at least 3");
        if (entries < 1 || entries >= kernelSize * kernelSize)
            throw new ArgumentOutOfRangeException(nameof(entries), entries, $"a pattern keeps between 1 and {kernelSize * kernelSize - 1} entries of a {kernelSize}x{kernelSize} kernel");
    }

    static IEnumerable<int[]> Combinations(int[] items, int k)
    {
        if (k == 0) { yield return Array.Empty<int>(); yield break; }
        for (int i = 0; i <= items.Length - k; i++)
            foreach (var rest in Combinations(items[(i + 1)..], k - 1))
                yield return rest.Prepend(items[i]).ToArray();
    }
}
