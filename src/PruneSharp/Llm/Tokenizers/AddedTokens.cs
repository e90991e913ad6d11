namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// tokenizer.json's <c>added_tokens</c> (special tokens such as <c>&lt;|endoftext|&gt;</c>), found before the model
/// sees the text, as tokenizers does: tokens with <c>normalized: false</c> in the raw text, then, in each stretch
/// between them once normalized, tokens with <c>normalized: true</c> as the normalizer writes them (Llama 2's
/// <c>&lt;s&gt;</c> is matched as <c>▁&lt;s&gt;</c>, and decoded as that too). At each place the longest token wins,
/// leftmost first. Tokens that strip whitespace around them or match whole words only are refused.
/// </summary>
sealed class AddedTokens
{
    readonly TokenMatcher raw, normalized;

    AddedTokens(IReadOnlyList<(string Content, int Id)> tokens, IReadOnlyList<(string, int)> raw, IReadOnlyList<(string, int)> normalized)
    {
        Tokens = tokens;
        this.raw = new TokenMatcher(raw);
        this.normalized = new TokenMatcher(normalized);
        var decoded = new Dictionary<int, string>();
        foreach (var (token, id) in raw.Concat(normalized)) decoded[id] = token;
        Decoded = decoded;
    }

    /// <summary>Content and id of every added token.</summary>
    public IReadOnlyList<(string Content, int Id)> Tokens { get; }

    /// <summary>The token each id is decoded from: the content, or for a normalized token its normalized form.</summary>
    public IReadOnlyDictionary<int, string> Decoded { get; }

    public static AddedTokens Parse(JsonField field, Normalizer? normalizer)
    {
        var tokens = new List<(string, int)>();
        var raw = new List<(string, int)>();
        var normalized = new List<(string, int)>();
        if (!field.IsNull)
            foreach (var token in field.Items())
            {
                string content = token.String("content");
                if (content.Length == 0) throw token.Get("content").Error("is empty");
                token.RequireUnset("single_word", false);
                token.RequireUnset("lstrip", false);
                token.RequireUnset("rstrip", false);
                int id = token.Int("id");
                tokens.Add((content, id));
                if (!token.Bool("normalized", !token.Bool("special", false))) raw.Add((content, id));
                else if ((normalizer?.Normalize(content) ?? content) is { Length: > 0 } pattern) normalized.Add((pattern, id));
            }
        return new AddedTokens(tokens, raw, normalized);
    }

    /// <summary>
    /// Cuts <paramref name="text"/> into normalized stretches of ordinary text (id null) and added tokens (their id), in
    /// order; <c>AtStart</c> marks a stretch that begins the text.
    /// </summary>
    public IEnumerable<(string Text, int? Id, bool AtStart)> Split(string text, Normalizer? normalizer)
    {
        foreach (var (stretch, id, offset) in raw.Split(text))
        {
            if (id != null)
            {
                yield return (stretch, id, false);
                continue;
            }
            foreach (var (piece, normalizedId, normalizedOffset) in normalized.Split(normalizer?.Normalize(stretch) ?? stretch))
                yield return (piece, normalizedId, offset == 0 && normalizedOffset == 0);
        }
    }

    /// <summary>Finds tokens in text: at each place the longest one starting there, scanning left to right.</summary>
    sealed class TokenMatcher(IReadOnlyList<(string Content, int Id)> tokens)
    {
        readonly Dictionary<char, (string Content, int Id)[]> byFirstChar = tokens.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());

        public IEnumerable<(string Text, int? Id, int Offset)> Split(string text)
        {
            int plain = 0;
            for (int i = 0; i < text.Length; i++)
            {
                if (!byFirstChar.TryGetValue(text[i], out var candidates)) continue;
                foreach (var (content, id) in candidates)
                {
                    if (string.CompareOrdinal(text, i, content, 0, content.Length) != 0) continue;
                    if (i > plain) yield return (text[plain..i], null, plain);
                    yield return (content, id, i);
                    plain = i + content.Length;
                    i = plain - 1;
                    break;
                }
            }
            if (plain < text.Length) yield return (text[plain..], null, plain);
        }
    }
}
