namespace PruneSharp.Compression;

/// <summary>
/// A canonical Huffman code over symbols 0..n-1, described completely by one code length per symbol (0 = the symbol
/// does not occur). Codes are assigned in order of (length, symbol): the first code of each length follows the last
/// code of the previous length plus one, shifted left (as in DEFLATE), so a file stores only the lengths. Lengths are
/// limited to <see cref="MaxLength"/> bits: when the optimal tree is deeper, the frequencies are halved (rounding up,
/// so no occurring symbol drops out) until it is not. A code with one symbol gives it length 1.
/// </summary>
public sealed class HuffmanCode
{
    /// <summary>Longest code length this implementation writes or accepts.</summary>
    public const int MaxLength = 24;

    readonly byte[] _lengths;
    readonly uint[] _codes;
    // Decoding tables per length L: the first canonical code of length L, how many codes have it, and where their symbols start in _sorted.
    readonly uint[] _firstCode = new uint[MaxLength + 1];
    readonly int[] _countOf = new int[MaxLength + 1];
    readonly int[] _firstIndex = new int[MaxLength + 1];
    readonly int[] _sorted;

    HuffmanCode(byte[] lengths)
    {
        _lengths = lengths;
        _codes = new uint[lengths.Length];
        foreach (byte l in lengths) if (l > 0) _countOf[l]++;
        _sorted = Enumerable.Range(0, lengths.Length).Where(s => lengths[s] > 0).OrderBy(s => lengths[s]).ThenBy(s => s).ToArray();
        uint code = 0;
        int index = 0;
        for (int l = 1; l <= MaxLength; l++)
        {
            _firstCode[l] = code;
            _firstIndex[l] = index;
            code = (code + (uint)_countOf[l]) << 1;
            index += _countOf[l];
        }
        var next = (uint[])_firstCode.Clone();
        foreach (int s in _sorted) _codes[s] = next[lengths[s]]++;
    }

    /// <summary>Code length per symbol (0 for symbols without a code).</summary>
    public IReadOnlyList<byte> Lengths => _lengths;

    /// <summary>Number of symbols of the alphabet.</summary>
    public int SymbolCount => _lengths.Length;

    /// <summary>The optimal length-limited code for symbol counts <paramref name="frequencies"/> (an alphabet of their length).</summary>
    /// <exception cref="ArgumentException">A frequency is negative or the alphabet is empty.</exception>
    public static HuffmanCode FromFrequencies(IReadOnlyList<long> frequencies)
    {
        if (frequencies.Count == 0) throw new ArgumentException("a Huffman code needs at least one symbol");
        if (frequencies.Any(f => f < 0)) throw new ArgumentException("symbol frequencies must be non-negative");
        var counts = frequencies.ToArray();
        while (true)
        {
            var lengths = OptimalLengths(counts);
            if (lengths.All(l => l <= MaxLength)) return new HuffmanCode(lengths.Select(l => (byte)l).ToArray());
            for (int s = 0; s < counts.Length; s++) if (counts[s] > 0) counts[s] = (counts[s] + 1) / 2;
        }
    }

    /// <summary>
    /// The code with these code lengths, after checking that they describe a prefix code that a decoder can use:
    /// every length at most <see cref="MaxLength"/>, the Kraft sum exactly 1 (a complete code), or a single symbol of
    /// length 1, or no symbol at all.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths are not a valid canonical code; the message says why.</exception>
    public static HuffmanCode FromLengths(IReadOnlyList<byte> lengths)
    {
        if (lengths.Count == 0) throw new ArgumentException("a Huffman code needs at least one symbol");
        int used = 0;
        double kraft = 0;
        for (int s = 0; s < lengths.Count; s++)
        {
            if (lengths[s] == 0) continue;
            if (lengths[s] > MaxLength) throw new ArgumentException($"symbol {s} has code length {lengths[s]}, more than the limit of {MaxLength}");
            used++;
            kraft += Math.Pow(2, -lengths[s]);
        }
        bool single = used == 1 && lengths.Max() == 1;
        if (used > 0 && !single && kraft != 1.0)
            throw new ArgumentException(kraft > 1
                ? $"the code lengths are not a prefix code (Kraft sum {kraft:R} > 1)"
                : $"the code lengths leave codes unused (Kraft sum {kraft:R} < 1), which a Huffman code never does");
        return new HuffmanCode(lengths.ToArray());
    }

    /// <summary>Appends the code of <paramref name="symbol"/>.</summary>
    /// <exception cref="ArgumentException">The symbol has no code.</exception>
    internal void Encode(int symbol, BitWriter writer)
    {
        if ((uint)symbol >= (uint)_lengths.Length || _lengths[symbol] == 0)
            throw new ArgumentException($"symbol {symbol} has no code in this Huffman code");
        writer.Write(_codes[symbol], _lengths[symbol]);
    }

    /// <summary>Reads one symbol; null if the bits run out before a code is complete.</summary>
    internal int? Decode(ref BitReader reader)
    {
        uint code = 0;
        for (int l = 1; l <= MaxLength; l++)
        {
            if (reader.Remaining == 0) return null;
            code = (code << 1) | (uint)reader.ReadBit();
            uint offset = code - _firstCode[l];
            if (code >= _firstCode[l] && offset < (uint)_countOf[l]) return _sorted[_firstIndex[l] + (int)offset];
        }
        return null;
    }

    /// <summary>Total bits of the encoding of <paramref name="frequencies"/> (symbol counts) under this code.</summary>
    public long EncodedBits(IReadOnlyList<long> frequencies)
    {
        long bits = 0;
        for (int s = 0; s < frequencies.Count; s++) bits += frequencies[s] * _lengths[s];
        return bits;
    }

    /// <summary>Huffman's algorithm: code lengths of an optimal prefix code (ties broken by lowest symbol first, so the result is deterministic).</summary>
    static int[] OptimalLengths(long[] counts)
    {
        int n = counts.Length;
        var lengths = new int[n];
        var present = Enumerable.Range(0, n).Where(s => counts[s] > 0).ToList();
        if (present.Count == 0) return lengths;
        if (present.Count == 1) { lengths[present[0]] = 1; return lengths; }
        // Nodes 0..n-1 are leaves; merged nodes follow. parent[] records the tree; depth follows from it.
        var parent = new List<int>(new int[n]);
        var queue = new PriorityQueue<int, (long Weight, int Order)>();
        foreach (int s in present) queue.Enqueue(s, (counts[s], s));
        int order = n;
        while (queue.Count > 1)
        {
            queue.TryDequeue(out int a, out var pa);
            queue.TryDequeue(out int b, out var pb);
            int node = parent.Count;
            parent.Add(-1);
            parent[a] = node;
            parent[b] = node;
            queue.Enqueue(node, (pa.Weight + pb.Weight, order++));
        }
        int root = parent.Count - 1;
        var depth = new int[parent.Count];
        for (int node = root - 1; node >= 0; node--)
            if (node >= n || counts[node] > 0) depth[node] = depth[parent[node]] + 1;
        foreach (int s in present) lengths[s] = depth[s];
        return lengths;
    }
}
