using System.Text.Json;
using PruneSharp.Data;

namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// A checkpoint's own tokenizer, read from its <c>tokenizer.json</c> (the Hugging Face tokenizers format) and usable
/// wherever a <see cref="TextTokenizer"/> is. Encoding follows the file's pipeline: added tokens are found (in the
/// raw text, or in the normalized text for those marked <c>normalized</c>), each stretch between them is normalized,
/// split by the pre-tokenizer, and each piece is encoded by the BPE model. No special tokens are added (no BOS): the evaluation protocol scores raw text, so the post-processor is not
/// applied. Both families that causal language models use are covered: byte-level BPE (GPT-2, Llama 3, Qwen2) and
/// SentencePiece-style BPE with ▁ for spaces and byte fallback (Llama 2, Mistral). Anything else in the file that
/// changes ids (a Unigram or WordPiece model, an unknown normalizer, pre-tokenizer or decoder, BPE dropout) is
/// refused naming the key.
/// <para>
/// Known difference: pre-tokenizer regular expressions run on .NET's UTF-16 strings, where tokenizers runs them on
/// code points, so a character outside the Basic Multilingual Plane (an emoji) next to letters may be split
/// differently and give other ids.
/// </para>
/// </summary>
public sealed class HfTokenizer : TextTokenizer
{
    readonly Normalizer? normalizer;
    readonly PreTokenizer? preTokenizer;
    readonly BytePairModel model;
    readonly Decoder? decoder;
    readonly AddedTokens added;
    readonly Dictionary<int, string> tokens;

    HfTokenizer(Normalizer? normalizer, PreTokenizer? preTokenizer, BytePairModel model, Decoder? decoder, AddedTokens added)
    {
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.decoder = decoder;
        this.added = added;
        tokens = model.Tokens();
        foreach (var (id, token) in added.Decoded) tokens[id] = token;
        VocabularySize = tokens.Keys.DefaultIfEmpty(-1).Max() + 1;
    }

    /// <summary>Reads <paramref name="path"/> (a <c>tokenizer.json</c>). Nothing is downloaded.</summary>
    /// <exception cref="DataNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">The file is not valid JSON, or uses a component or setting this reader does not implement; the message names the key.</exception>
    public static HfTokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new DataNotFoundException(path, "tokenizer file does not exist");
        JsonDocument document;
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            // The parser checks UTF-8 only in the strings it is asked for, and then throws InvalidOperationException.
            if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new DataFormatException(path, "is not valid UTF-8");
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = new JsonField(document.RootElement, "", path);
            var normalizer = Normalizer.Parse(root.Get("normalizer"));
            return new HfTokenizer(normalizer, PreTokenizer.Parse(root.Get("pre_tokenizer")), BytePairModel.Parse(root.Get("model")),
                Decoder.Parse(root.Get("decoder")), AddedTokens.Parse(root.Get("added_tokens"), normalizer));
        }
    }

    /// <inheritdoc/>
    public override int VocabularySize { get; }

    /// <summary>The id of <paramref name="token"/> (a vocabulary entry or an added token), or null.</summary>
    public int? TokenId(string token) =>
        added.Tokens.Where(t => t.Content == token).Select(t => (int?)t.Id).FirstOrDefault()
        ?? (model.Vocabulary.TryGetValue(token, out int id) ? id : null);

    /// <inheritdoc/>
    public override int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (var (stretch, id, atStart) in added.Split(text, normalizer))
        {
            if (id is int special)
            {
                ids.Add(special);
                continue;
            }
            var start = new Piece(stretch, atStart);
            foreach (var piece in preTokenizer?.Split(start) ?? [start]) model.Encode(piece.Text, ids);
        }
        return ids.ToArray();
    }

    /// <inheritdoc/>
    public override string Decode(IEnumerable<int> ids)
    {
        var pieces = ids.Select(id => tokens.TryGetValue(id, out string? token) ? token
            : throw new ArgumentOutOfRangeException(nameof(ids), id, $"id {id} is not in the tokenizer's vocabulary")).ToList();
        return string.Concat(decoder?.Decode(pieces) ?? pieces);
    }
}
