using System.Collections.Concurrent;
using System.Text.Json;

namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// tokenizer.json's <c>model</c> of type BPE: a piece starts as its characters (a character missing from the
/// vocabulary becomes its UTF-8 bytes as <c>&lt;0xNN&gt;</c> tokens under <c>byte_fallback</c>, else the unknown
/// token, runs of which fuse under <c>fuse_unk</c>, else it is dropped, as tokenizers does), then the adjacent pair
/// with the lowest merge rank is merged, leftmost first, until no ranked pair is left. Under <c>ignore_merges</c> a
/// piece that is itself in the vocabulary is one token.
/// </summary>
sealed class BytePairModel
{
    readonly Dictionary<string, int> vocabulary;
    readonly Dictionary<(int Left, int Right), (int Rank, int Merged)> merges;
    readonly int? unknown;
    readonly bool byteFallback, fuseUnknown, ignoreMerges;
    readonly int?[] byteTokens = new int?[256];
    // Pieces recur (words of a language): their ids are kept, up to a bound, as tokenizers does.
    readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);
    const int CacheCapacity = 100_000, CachedPieceLength = 256;

    BytePairModel(Dictionary<string, int> vocabulary, Dictionary<(int, int), (int, int)> merges, int? unknown, bool byteFallback, bool fuseUnknown, bool ignoreMerges)
    {
        this.vocabulary = vocabulary;
        this.merges = merges;
        this.unknown = unknown;
        this.byteFallback = byteFallback;
        this.fuseUnknown = fuseUnknown;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++)
            if (vocabulary.TryGetValue($"<0x{b:X2}>", out int id)) byteTokens[b] = id;
    }

    /// <summary>Token → id.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => vocabulary;

    public static BytePairModel Parse(JsonField field)
    {
        if (field.Type != "BPE") throw field.Get("type").Error($"model '{field.Type}' is not supported by PruneSharp's tokenizer.json reader (BPE only)");
        field.RequireUnset("dropout", 0.0);
        field.RequireUnset("continuing_subword_prefix", "");
        field.RequireUnset("end_of_word_suffix", "");
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, value) in field.Get("vocab").Properties())
            vocabulary[token] = value.Element.ValueKind == JsonValueKind.Number && value.Element.TryGetInt32(out int id) && id >= 0
                ? id : throw value.Error("expected a non-negative token id");
        var merges = new Dictionary<(int, int), (int, int)>();
        int rank = 0;
        foreach (var merge in field.Items("merges"))
        {
            string left, right;
            if (merge.Element.ValueKind == JsonValueKind.String)
            {
                var parts = merge.Element.GetString()!.Split(' ');
                if (parts.Length != 2) throw merge.Error("expected two tokens separated by one space");
                (left, right) = (parts[0], parts[1]);
            }
            else if (merge.Element.ValueKind == JsonValueKind.Array && merge.Element.GetArrayLength() == 2
                && merge.Element.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                (left, right) = (merge.Element[0].GetString()!, merge.Element[1].GetString()!);
            else throw merge.Error("expected \"left right\" or [left, right]");
            int Id(string token) => vocabulary.TryGetValue(token, out int id) ? id : throw merge.Error($"token '{token}' is not in model.vocab");
            merges.TryAdd((Id(left), Id(right)), (rank++, Id(left + right)));
        }
        string? unknownToken = field.OptionalString("unk_token");
        int? unknown = unknownToken == null ? null
            : vocabulary.TryGetValue(unknownToken, out int unk) ? unk : throw field.Get("unk_token").Error($"'{unknownToken}' is not in model.vocab");
        return new BytePairModel(vocabulary, merges, unknown, field.Bool("byte_fallback", false), field.Bool("fuse_unk", false), field.Bool("ignore_merges", false));
    }

    /// <summary>Appends the ids of <paramref name="piece"/> to <paramref name="ids"/>.</summary>
    public void Encode(string piece, List<int> ids)
    {
        if (piece.Length == 0) return;
        if (ignoreMerges && vocabulary.TryGetValue(piece, out int whole))
        {
            ids.Add(whole);
            return;
        }
        if (cache.TryGetValue(piece, out int[]? cached))
        {
            ids.AddRange(cached);
            return;
        }
        var symbols = InitialSymbols(piece);
        Merge(symbols);
        ids.AddRange(symbols);
        if (piece.Length <= CachedPieceLength && cache.Count < CacheCapacity) cache.TryAdd(piece, symbols.ToArray());
    }

    List<int> InitialSymbols(string piece)
    {
        var symbols = new List<int>(piece.Length);
        bool lastWasUnknown = false;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in piece.EnumerateRunes())
        {
            if (vocabulary.TryGetValue(rune.ToString(), out int id))
            {
                symbols.Add(id);
                lastWasUnknown = false;
                continue;
            }
            if (byteFallback)
            {
                int count = rune.EncodeToUtf8(utf8);
                bool all = true;
                for (int i = 0; i < count; i++) all &= byteTokens[utf8[i]] != null;
                if (all)
                {
                    for (int i = 0; i < count; i++) symbols.Add(byteTokens[utf8[i]]!.Value);
                    lastWasUnknown = false;
                    continue;
                }
            }
            if (unknown is int unk && !(fuseUnknown && lastWasUnknown))
                symbols.Add(unk);
            lastWasUnknown = unknown != null;
        }
        return symbols;
    }

    /// <summary>Merges in place: lowest rank first, leftmost among equal ranks (a priority queue over live pairs).</summary>
    void Merge(List<int> symbols)
    {
        int n = symbols.Count;
        if (n < 2) return;
        var next = new int[n];
        var previous = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; previous[i] = i - 1; alive[i] = true; }
        var queue = new PriorityQueue<(int Position, int Merged), (int Rank, int Position)>();
        void Offer(int left)
        {
            int right = next[left];
            if (right >= 0 && merges.TryGetValue((symbols[left], symbols[right]), out var merge))
                queue.Enqueue((left, merge.Merged), (merge.Rank, left));
        }
        for (int i = 0; i + 1 < n; i++) Offer(i);
        while (queue.TryDequeue(out var top, out _))
        {
            int left = top.Position, right = next[left];
            // Stale entries: the left symbol was merged away, or the pair it named has changed since.
            if (!alive[left] || right < 0 || !merges.TryGetValue((symbols[left], symbols[right]), out var merge) || merge.Merged != top.Merged) continue;
            symbols[left] = merge.Merged;
            alive[right] = false;
            next[left] = next[right];
            if (next[right] >= 0) previous[next[right]] = left;
            if (previous[left] >= 0) Offer(previous[left]);
            Offer(left);
        }
        int write = 0;
        for (int i = 0; i < n; i++) if (alive[i]) symbols[write++] = symbols[i];
        symbols.RemoveRange(write, n - write);
    }

    /// <summary>Id → token for the model's vocabulary.</summary>
    public Dictionary<int, string> Tokens() => vocabulary.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).Order(StringComparer.Ordinal).First());
}
