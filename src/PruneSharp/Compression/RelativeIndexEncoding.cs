namespace PruneSharp.Compression;

/// <summary>
/// Sparse storage with relative indices (Han et al., 2016, section 2): a layer's weights, flattened row-major, are
/// stored as the list of its non-zero entries, each with the number of zeros skipped since the previous stored entry
/// (the gap; the first entry counts from position 0). A gap must fit in <c>indexBits</c> bits; where more zeros lie
/// between two entries, a padding entry (a stored zero, value symbol <see cref="Padding"/>) is placed after the
/// largest gap the width allows, as often as needed. Zeros after the last non-zero weight are not stored: the layer's
/// length says where it ends.
/// </summary>
public static class RelativeIndexEncoding
{
    /// <summary>The value symbol of a padding entry; a weight's cluster <c>c</c> is stored as symbol <c>c + 1</c>.</summary>
    public const int Padding = 0;

    /// <summary>
    /// Turns cluster assignments (with <see cref="WeightClusters.Pruned"/> for zeros) into stored entries: per entry,
    /// its gap and its value symbol (<see cref="Padding"/> or cluster + 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="indexBits"/> is outside 1..16.</exception>
    public static (int[] Gaps, int[] Symbols) Encode(ReadOnlySpan<int> assignments, int indexBits)
    {
        CheckWidth(indexBits);
        int maxGap = (1 << indexBits) - 1;
        var gaps = new List<int>();
        var symbols = new List<int>();
        int run = 0;
        foreach (int a in assignments)
        {
            if (a == WeightClusters.Pruned)
            {
                run++;
                continue;
            }
            while (run > maxGap)
            {
                // A padding entry takes the place of one zero: maxGap zeros skipped, then the stored zero.
                gaps.Add(maxGap);
                symbols.Add(Padding);
                run -= maxGap + 1;
            }
            gaps.Add(run);
            symbols.Add(a + 1);
            run = 0;
        }
        return (gaps.ToArray(), symbols.ToArray());
    }

    /// <summary>
    /// The inverse of <see cref="Encode"/>: cluster assignments of a layer of <paramref name="length"/> weights from its
    /// stored entries. Returns null with a reason if the entries do not describe such a layer (an entry beyond its
    /// end, a gap wider than <paramref name="indexBits"/>).
    /// </summary>
    public static int[]? Decode(ReadOnlySpan<int> gaps, ReadOnlySpan<int> symbols, long length, int indexBits, out string? error)
    {
        CheckWidth(indexBits);
        error = null;
        if (gaps.Length != symbols.Length) { error = $"{gaps.Length} gaps for {symbols.Length} values"; return null; }
        if (length > Array.MaxLength) { error = $"a layer of {length} weights is too large"; return null; }
        var assignments = new int[length];
        Array.Fill(assignments, WeightClusters.Pruned);
        long position = -1;
        for (int e = 0; e < gaps.Length; e++)
        {
            if ((uint)gaps[e] >= 1u << indexBits) { error = $"entry {e} has gap {gaps[e]}, wider than {indexBits} bits"; return null; }
            position += gaps[e] + 1L;
            if (position >= length) { error = $"entry {e} lies at position {position}, beyond the layer's {length} weights"; return null; }
            if (symbols[e] != Padding) assignments[position] = symbols[e] - 1;
        }
        return assignments;
    }

    static void CheckWidth(int indexBits)
    {
        if (indexBits is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(indexBits), indexBits, "relative index width must be 1 to 16 bits");
    }
}
