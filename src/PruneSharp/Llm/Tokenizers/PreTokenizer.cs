using System.Text.RegularExpressions;

namespace PruneSharp.Llm.Tokenizers;

/// <summary>A piece of text on its way to the model; <paramref name="AtStart"/> marks the piece that begins the input.</summary>
readonly record struct Piece(string Text, bool AtStart);

/// <summary>
/// tokenizer.json's <c>pre_tokenizer</c>: splits normalized text into the pieces the model encodes one by one.
/// Implemented: Sequence, Split (String or Regex pattern, every behavior, invert), ByteLevel (GPT-2's split and byte
/// alphabet) and Metaspace (spaces shown as ▁, prepend scheme always/first/never, optional split before each ▁).
/// </summary>
abstract class PreTokenizer
{
    public abstract IEnumerable<Piece> Split(Piece piece);

    public static PreTokenizer? Parse(JsonField field)
    {
        if (field.IsNull) return null;
        switch (field.Type)
        {
            case "Sequence":
                return new SequencePreTokenizer(field.Items("pretokenizers").Select(f => Parse(f) ?? throw f.Error("null inside a Sequence")).ToArray());
            case "Split":
                return new SplitPreTokenizer(TextPattern.Parse(field.Get("pattern")), Behavior(field.Get("behavior")), field.Bool("invert", false));
            case "ByteLevel":
                return new ByteLevelPreTokenizer(field.Bool("add_prefix_space", true), field.Bool("use_regex", true));
            case "Metaspace":
                var replacement = field.String("replacement");
                if (replacement.EnumerateRunes().Count() != 1) throw field.Get("replacement").Error("expected one character");
                string scheme = field.Get("prepend_scheme").IsNull ? (field.Bool("add_prefix_space", true) ? "always" : "never") : field.String("prepend_scheme");
                if (scheme is not ("always" or "first" or "never")) throw field.Get("prepend_scheme").Error($"prepend scheme '{scheme}' is not always, first or never");
                return new MetaspacePreTokenizer(replacement, scheme, field.Bool("split", true));
            default:
                throw field.Get("type").Error($"pre-tokenizer '{field.Type}' is not supported by PruneSharp's tokenizer.json reader");
        }
    }

    enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

    static SplitBehavior Behavior(JsonField field) =>
        field.Element.ValueKind == System.Text.Json.JsonValueKind.String && Enum.TryParse<SplitBehavior>(field.Element.GetString(), out var behavior)
            && Enum.IsDefined(behavior) && !int.TryParse(field.Element.GetString(), out _)
            ? behavior : throw field.Error($"split behavior {field.Element.GetRawText()} is not one of {string.Join(", ", Enum.GetNames<SplitBehavior>())}");

    /// <summary>Cuts <paramref name="text"/> at the matches of <paramref name="pattern"/> as tokenizers' split behaviors do.</summary>
    static IEnumerable<string> SplitAt(string text, Regex pattern, SplitBehavior behavior, bool invert)
    {
        var spans = new List<(int Start, int Length, bool Match)>();
        int position = 0;
        foreach (Match match in pattern.Matches(text))
        {
            if (match.Length == 0) continue;
            if (match.Index > position) spans.Add((position, match.Index - position, invert));
            spans.Add((match.Index, match.Length, !invert));
            position = match.Index + match.Length;
        }
        if (position < text.Length) spans.Add((position, text.Length - position, invert));

        var pieces = new List<string>();
        if (behavior == SplitBehavior.MergedWithNext)
        {
            // Walking backwards, a delimiter joins the piece after it unless that piece is a delimiter too.
            bool nextWasMatch = false;
            for (int i = spans.Count - 1; i >= 0; i--)
            {
                var (start, length, isMatch) = spans[i];
                string part = text.Substring(start, length);
                if (isMatch && !nextWasMatch && pieces.Count > 0) pieces[^1] = part + pieces[^1];
                else pieces.Add(part);
                nextWasMatch = isMatch;
            }
            pieces.Reverse();
            return pieces;
        }
        bool lastWasMatch = false;
        foreach (var (start, length, isMatch) in spans)
        {
            string part = text.Substring(start, length);
            switch (behavior)
            {
                case SplitBehavior.Removed:
                    if (!isMatch) pieces.Add(part);
                    break;
                case SplitBehavior.Isolated:
                    pieces.Add(part);
                    break;
                case SplitBehavior.MergedWithPrevious:
                    // A delimiter joins the piece before it unless that piece is a delimiter too.
                    if (isMatch && !lastWasMatch && pieces.Count > 0) pieces[^1] += part;
                    else pieces.Add(part);
                    break;
                case SplitBehavior.Contiguous:
                    if (isMatch && lastWasMatch) pieces[^1] += part;
                    else pieces.Add(part);
                    break;
            }
            lastWasMatch = isMatch;
        }
        return pieces;
    }

    static IEnumerable<Piece> Pieces(Piece piece, IEnumerable<string> texts) =>
        texts.Select((text, i) => new Piece(text, piece.AtStart && i == 0));

    sealed class SequencePreTokenizer(PreTokenizer[] steps) : PreTokenizer
    {
        public override IEnumerable<Piece> Split(Piece piece) =>
            steps.Aggregate((IEnumerable<Piece>)[piece], (pieces, step) => pieces.SelectMany(step.Split));
    }

    sealed class SplitPreTokenizer(Regex pattern, SplitBehavior behavior, bool invert) : PreTokenizer
    {
        public override IEnumerable<Piece> Split(Piece piece) => Pieces(piece, SplitAt(piece.Text, pattern, behavior, invert));
    }

    sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
    {
        /// <summary>GPT-2's split: contractions, letters, digits, other symbols, each with one leading space; whitespace runs.</summary>
        static readonly Regex Gpt2Split = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant);

        public override IEnumerable<Piece> Split(Piece piece)
        {
            string text = addPrefixSpace && !piece.Text.StartsWith(' ') ? " " + piece.Text : piece.Text;
            var texts = useRegex ? SplitAt(text, Gpt2Split, SplitBehavior.Isolated, invert: false) : [text];
            return Pieces(piece, texts.Select(ByteLevelAlphabet.Encode));
        }
    }

    sealed class MetaspacePreTokenizer(string replacement, string scheme, bool split) : PreTokenizer
    {
        readonly Regex marker = new(Regex.Escape(replacement), RegexOptions.CultureInvariant);

        public override IEnumerable<Piece> Split(Piece piece)
        {
            string text = piece.Text.Replace(" ", replacement);
            if ((scheme == "always" || (scheme == "first" && piece.AtStart)) && !text.StartsWith(replacement, StringComparison.Ordinal))
                text = replacement + text;
            return Pieces(piece, split ? SplitAt(text, marker, SplitBehavior.MergedWithNext, invert: false) : [text]);
        }
    }
}
