using System.Text;
using System.Text.RegularExpressions;

namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// tokenizer.json's <c>decoder</c>: turns the tokens of ids back into text, a list of strings at a time.
/// Implemented: Sequence, ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip.
/// </summary>
abstract class Decoder
{
    public abstract List<string> Decode(List<string> tokens);

    public static Decoder? Parse(JsonField field)
    {
        if (field.IsNull) return null;
        switch (field.Type)
        {
            case "Sequence":
                return new SequenceDecoder(field.Items("decoders").Select(f => Parse(f) ?? throw f.Error("null inside a Sequence")).ToArray());
            case "ByteLevel":
                return new ByteLevelDecoder();
            case "Metaspace":
                string replacement = field.String("replacement");
                bool strip = field.Get("prepend_scheme").IsNull ? field.Bool("add_prefix_space", true) : field.String("prepend_scheme") != "never";
                return new MetaspaceDecoder(replacement, strip);
            case "Replace":
                return new ReplaceDecoder(TextPattern.Parse(field.Get("pattern")), field.String("content"));
            case "ByteFallback":
                return new ByteFallbackDecoder();
            case "Fuse":
                return new FuseDecoder();
            case "Strip":
                string content = field.String("content");
                if (content.Length != 1) throw field.Get("content").Error("expected one character");
                return new StripDecoder(content[0], field.Int("start"), field.Int("stop"));
            default:
                throw field.Get("type").Error($"decoder '{field.Type}' is not supported by PruneSharp's tokenizer.json reader");
        }
    }

    sealed class SequenceDecoder(Decoder[] steps) : Decoder
    {
        public override List<string> Decode(List<string> tokens) => steps.Aggregate(tokens, (t, step) => step.Decode(t));
    }

    /// <summary>All tokens' bytes (a token with a character outside the alphabet gives its own UTF-8), decoded as UTF-8.</summary>
    sealed class ByteLevelDecoder : Decoder
    {
        public override List<string> Decode(List<string> tokens)
        {
            var bytes = new List<byte>();
            foreach (string token in tokens) bytes.AddRange(ByteLevelAlphabet.Decode(token) ?? Encoding.UTF8.GetBytes(token));
            return [Encoding.UTF8.GetString(bytes.ToArray())];
        }
    }

    /// <summary>▁ becomes a space; in the first token it is dropped when the pre-tokenizer prepends one.</summary>
    sealed class MetaspaceDecoder(string replacement, bool stripFirst) : Decoder
    {
        public override List<string> Decode(List<string> tokens) =>
            tokens.Select((token, i) => token.Replace(replacement, i == 0 && stripFirst ? "" : " ")).ToList();
    }

    sealed class ReplaceDecoder(Regex pattern, string content) : Decoder
    {
        public override List<string> Decode(List<string> tokens) => tokens.Select(t => pattern.Replace(t, _ => content)).ToList();
    }

    /// <summary>Runs of <c>&lt;0xNN&gt;</c> tokens become the UTF-8 text of their bytes, or one U+FFFD per byte if invalid.</summary>
    sealed class ByteFallbackDecoder : Decoder
    {
        static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

        public override List<string> Decode(List<string> tokens)
        {
            var result = new List<string>();
            var pending = new List<byte>();
            void Flush()
            {
                if (pending.Count == 0) return;
                try { result.Add(Strict.GetString(pending.ToArray())); }
                catch (DecoderFallbackException) { result.AddRange(Enumerable.Repeat("\uFFFD", pending.Count)); }
                pending.Clear();
            }
            foreach (string token in tokens)
            {
                if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                    && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
                    pending.Add(b);
                else
                {
                    Flush();
                    result.Add(token);
                }
            }
            Flush();
            return result;
        }
    }

    sealed class FuseDecoder : Decoder
    {
        public override List<string> Decode(List<string> tokens) => [string.Concat(tokens)];
    }

    /// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing copies of a character from each token.</summary>
    sealed class StripDecoder(char content, int start, int stop) : Decoder
    {
        public override List<string> Decode(List<string> tokens) => tokens.Select(token =>
        {
            int from = 0, to = token.Length;
            while (from < Math.Min(start, token.Length) && token[from] == content) from++;
            while (token.Length - to < stop && to > from && token[to - 1] == content) to--;
            return token[from..to];
        }).ToList();
    }
}
