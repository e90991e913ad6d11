namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// tokenizer.json's <c>added_tokens</c> (special tokens such as <c>&lt;|endoftext|&gt;</c>): found in the raw text
/// before anything else, leftmost first and longest among those starting at the same place, and encoded as their
/// own ids. Tokens that strip whitespace around them or match whole words only are refused, as is a token matched
/// after normalization when the tokenizer has a normalizer.
/// </summary>
sealed class AddedTokens
{
    readonly Dictionary<char, (string Content, int Id)[]> byFirstChar;

    AddedTokens(IReadOnlyList<(string Content, int Id)> tokens)
    {
        Tokens = tokens;
        byFirstChar = tokens.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>Content and id of every added token.</summary>
    public IReadOnlyList<(string Content, int Id)> Tokens { get; }

    public static AddedTokens Parse(JsonField field, bool hasNormalizer)
    {
        var tokens = new List<(string, int)>();
        if (!field.IsNull)
            foreach (var token in field.Items())
            {
                string content = token.String("content");
                if (content.Length == 0) throw token.Get("content").Error("is empty");
                token.RequireUnset("single_word", false);
                token.RequireUnset("lstrip", false);
                token.RequireUnset("rstrip", false);
                if (hasNormalizer) token.RequireUnset("normalized", false);
                tokens.Add((content, token.Int("id")));
            }
        return new AddedTokens(tokens);
    }

    /// <summary>
    /// Cuts <paramref name="text"/> into stretches of ordinary text (id null) and added tokens (their id), in order;
    /// the offset says where each stretch begins.
    /// </summary>
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
