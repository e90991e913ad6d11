namespace PruneSharp.Pipelines;

/// <summary>Suggestions for a mistyped name: the valid names nearest to it by edit distance.</summary>
public static class NearestNames
{
    /// <summary>
    /// The names of <paramref name="valid"/> at the smallest Levenshtein distance from <paramref name="given"/>
    /// (case-insensitive), if that distance is at most a third of the longer name plus one; ties keep the order of
    /// <paramref name="valid"/>.
    /// </summary>
    public static IReadOnlyList<string> Find(string given, IEnumerable<string> valid)
    {
        var scored = valid.Select(v => (Name: v, Distance: Distance(given.ToLowerInvariant(), v.ToLowerInvariant()))).ToList();
        if (scored.Count == 0) return Array.Empty<string>();
        int best = scored.Min(s => s.Distance);
        return scored.Where(s => s.Distance == best && best <= Math.Max(given.Length, s.Name.Length) / 3 + 1).Select(s => s.Name).ToList();
    }

    /// <summary>The Levenshtein distance: insertions, deletions and substitutions of one character each cost 1.</summary>
    public static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
