using System.Text;
using System.Text.RegularExpressions;

namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// tokenizer.json's <c>normalizer</c>: rewrites each stretch of text between added tokens before it is split.
/// Implemented: Sequence, Prepend (only before non-empty text), Replace (a literal string or a regular expression,
/// replaced by literal content), NFC, NFD, NFKC, NFKD.
/// </summary>
abstract class Normalizer
{
    public abstract string Normalize(string text);

    /// <summary>The normalizer described by <paramref name="field"/>, or null for none.</summary>
    public static Normalizer? Parse(JsonField field)
    {
        if (field.IsNull) return null;
        return field.Type switch
        {
            "Sequence" => new SequenceNormalizer(field.Items("normalizers").Select(f => Parse(f) ?? throw f.Error("null inside a Sequence")).ToArray()),
            "Prepend" => new PrependNormalizer(field.String("prepend")),
            "Replace" => new ReplaceNormalizer(TextPattern.Parse(field.Get("pattern")), field.String("content")),
            "NFC" => new FormNormalizer(NormalizationForm.FormC),
            "NFD" => new FormNormalizer(NormalizationForm.FormD),
            "NFKC" => new FormNormalizer(NormalizationForm.FormKC),
            "NFKD" => new FormNormalizer(NormalizationForm.FormKD),
            string type => throw field.Get("type").Error($"normalizer '{type}' is not supported by PruneSharp's tokenizer.json reader"),
        };
    }

    sealed class SequenceNormalizer(Normalizer[] steps) : Normalizer
    {
        public override string Normalize(string text) => steps.Aggregate(text, (t, step) => step.Normalize(t));
    }

    sealed class PrependNormalizer(string prefix) : Normalizer
    {
        public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
    }

    sealed class ReplaceNormalizer(Regex pattern, string content) : Normalizer
    {
        public override string Normalize(string text) => pattern.Replace(text, _ => content);
    }

    sealed class FormNormalizer(NormalizationForm form) : Normalizer
    {
        public override string Normalize(string text) => text.Normalize(form);
    }
}

/// <summary>A <c>pattern</c> of tokenizer.json: <c>{"String": literal}</c> or <c>{"Regex": expression}</c>.</summary>
static class TextPattern
{
    public static Regex Parse(JsonField field)
    {
        var properties = field.Properties().ToList();
        if (properties.Count != 1) throw field.Error("expected one of {\"String\": ...} or {\"Regex\": ...}");
        var (kind, value) = properties[0];
        string text = value.Element.ValueKind == System.Text.Json.JsonValueKind.String ? value.Element.GetString()! : throw value.Error("expected a string");
        try
        {
            return kind switch
            {
                "String" => new Regex(Regex.Escape(text), RegexOptions.CultureInvariant),
                "Regex" => new Regex(text, RegexOptions.CultureInvariant),
                _ => throw value.Error($"pattern kind '{kind}' is not supported (String or Regex)"),
            };
        }
        catch (ArgumentException e)
        {
            throw value.Error($"regular expression does not parse in .NET ({e.Message})");
        }
    }
}
