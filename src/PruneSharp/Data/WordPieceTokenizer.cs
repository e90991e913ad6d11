using Microsoft.ML.Tokenizers;

namespace PruneSharp.Data;

/// <summary>
/// BERT's WordPiece tokenizer from its vocabulary file (<c>vocab.txt</c>: one token per line, the line number its id),
/// read with Microsoft.ML.Tokenizers' <c>BertTokenizer</c>: basic tokenisation (lower case and accents stripped unless
/// cased, punctuation split off, CJK characters apart), then greedy longest-match-first word pieces with <c>##</c>
/// continuations, <c>[UNK]</c> for a word that cannot be split. <see cref="Encode"/> gives the pieces alone;
/// <see cref="EncodeSequence"/> wraps them as <c>[CLS] … [SEP]</c>, as the model saw its inputs.
/// </summary>
public sealed class WordPieceTokenizer : TextTokenizer
{
    readonly BertTokenizer _tokenizer;

    WordPieceTokenizer(BertTokenizer tokenizer, int vocabularySize)
    {
        _tokenizer = tokenizer;
        VocabularySize = vocabularySize;
    }

    /// <summary>Reads <paramref name="vocabularyFile"/>; nothing is downloaded.</summary>
    /// <param name="vocabularyFile">The vocabulary, one token per line (it must hold [CLS], [SEP], [PAD] and [UNK]).</param>
    /// <param name="cased">Keep case and accents (a cased model); default: lower-case and strip accents (an uncased model).</param>
    /// <exception cref="DataNotFoundException">The file is missing.</exception>
    /// <exception cref="DataFormatException">The file cannot be read as a WordPiece vocabulary, or lacks a special token.</exception>
    public static WordPieceTokenizer FromVocabulary(string vocabularyFile, bool cased = false)
    {
        if (!File.Exists(vocabularyFile)) throw new DataNotFoundException(vocabularyFile, "tokenizer file does not exist");
        var lines = File.ReadAllLines(vocabularyFile);
        foreach (string special in new[] { "[CLS]", "[SEP]", "[PAD]", "[UNK]" })
            if (!lines.Contains(special)) throw new DataFormatException(vocabularyFile, $"the WordPiece vocabulary has no {special} token");
        try
        {
            var tokenizer = BertTokenizer.Create(vocabularyFile, new BertOptions { LowerCaseBeforeTokenization = !cased, RemoveNonSpacingMarks = !cased });
            return new WordPieceTokenizer(tokenizer, lines.Length);
        }
        catch (Exception e) when (e is not DataException)
        {
            throw new DataFormatException(vocabularyFile, $"cannot read the WordPiece vocabulary: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override int VocabularySize { get; }

    /// <summary>Id of <c>[CLS]</c>, which starts every sequence.</summary>
    public int ClassificationId => _tokenizer.ClassificationTokenId;

    /// <summary>Id of <c>[SEP]</c>, which ends every sequence.</summary>
    public int SeparatorId => _tokenizer.SeparatorTokenId;

    /// <summary>Id of <c>[PAD]</c>, which fills a sequence up to a fixed length.</summary>
    public int PaddingId => _tokenizer.PaddingTokenId;

    /// <summary>The word pieces of <paramref name="text"/>, without <c>[CLS]</c> and <c>[SEP]</c>.</summary>
    public override int[] Encode(string text) => _tokenizer.EncodeToIds(text, addSpecialTokens: false).ToArray();

    /// <summary>
    /// <c>[CLS]</c>, the first <paramref name="maxLength"/> − 2 pieces of <paramref name="text"/>, <c>[SEP]</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2.</exception>
    public int[] EncodeSequence(string text, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "a sequence holds at least [CLS] and [SEP]");
        return Encode(text).Take(maxLength - 2).Prepend(ClassificationId).Append(SeparatorId).ToArray();
    }

    /// <inheritdoc/>
    public override string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids) ?? "";
}
