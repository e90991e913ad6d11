using System.Text;
using Microsoft.ML.Tokenizers;

namespace PruneSharp.Data;

/// <summary>Turns text into token ids and back, for language-model corpora.</summary>
public abstract class TextTokenizer
{
    /// <summary>Number of distinct ids (every id is in <c>[0, VocabularySize)</c>).</summary>
    public abstract int VocabularySize { get; }

    /// <summary>The ids of <paramref name="text"/>.</summary>
    public abstract int[] Encode(string text);

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public abstract string Decode(IEnumerable<int> ids);

    /// <summary>Byte-level tokenizer: each UTF-8 byte is a token (vocabulary 256). Needs no files.</summary>
    public static TextTokenizer Bytes { get; } = new ByteTokenizer();

    /// <summary>
    /// A BPE tokenizer from a vocabulary (<c>vocab.json</c>: token → id) and merges file (<c>merges.txt</c>: one
    /// pair per line), read with Microsoft.ML.Tokenizers. Nothing is downloaded.
    /// </summary>
    /// <param name="vocabularyFile">JSON object mapping each token to its id.</param>
    /// <param name="mergesFile">Merge rules, one "left right" pair per line, most frequent first (a <c>#version</c> first line is allowed).</param>
    /// <param name="byteLevel">GPT-2 style: encode UTF-8 bytes, with spaces shown as <c>Ġ</c> in the vocabulary.</param>
    /// <exception cref="DataNotFoundException">A file is missing.</exception>
    /// <exception cref="DataFormatException">A file cannot be parsed.</exception>
    public static TextTokenizer FromBpeFiles(string vocabularyFile, string mergesFile, bool byteLevel = false)
    {
        foreach (string file in new[] { vocabularyFile, mergesFile })
            if (!File.Exists(file)) throw new DataNotFoundException(file, "tokenizer file does not exist");
        try
        {
            var bpe = BpeTokenizer.Create(new BpeOptions(vocabularyFile, mergesFile) { ByteLevel = byteLevel });
            return new LibraryTokenizer(bpe, bpe.Vocabulary.Values.DefaultIfEmpty(-1).Max() + 1);
        }
        catch (Exception e) when (e is not DataException)
        {
            throw new DataFormatException(vocabularyFile, $"cannot read BPE vocabulary/merges ('{Path.GetFileName(mergesFile)}'): {e.Message}", e);
        }
    }

    /// <summary>
    /// Default split before tiktoken-style BPE: a word or a run of punctuation with its leading space, or a run of
    /// other whitespace. Every character lands in some piece, so decoding gives the text back.
    /// </summary>
    public const string DefaultPiecePattern = @" ?\w+| ?[^\w\s]+|\s+";

    /// <summary>
    /// A tiktoken-style byte-level BPE tokenizer from a rank file (one "base64-token rank" pair per line, as in
    /// <c>*.tiktoken</c> files), read with Microsoft.ML.Tokenizers. Nothing is downloaded: the file is the user's.
    /// </summary>
    /// <param name="rankFile">The rank file.</param>
    /// <param name="preTokenizerPattern">Regular expression that splits text into pieces before BPE (the encoding's own
    /// pattern reproduces its ids exactly); default <see cref="DefaultPiecePattern"/>.</param>
    /// <exception cref="DataNotFoundException">The file is missing.</exception>
    /// <exception cref="DataFormatException">The file or the pattern cannot be parsed.</exception>
    public static TextTokenizer FromTiktokenFile(string rankFile, string? preTokenizerPattern = null)
    {
        if (!File.Exists(rankFile)) throw new DataNotFoundException(rankFile, "tokenizer file does not exist");
        try
        {
            var preTokenizer = new RegexPreTokenizer(new System.Text.RegularExpressions.Regex(preTokenizerPattern ?? DefaultPiecePattern), null);
            var tiktoken = TiktokenTokenizer.Create(rankFile, preTokenizer, normalizer: null);
            // Ranks are the ids; the largest one (and any special token's id) bounds the vocabulary.
            int size = File.ReadLines(rankFile).Where(l => l.Length > 0).Select(l => int.Parse(l[(l.LastIndexOf(' ') + 1)..]))
                .Concat(tiktoken.SpecialTokens?.Values ?? []).DefaultIfEmpty(-1).Max() + 1;
            return new LibraryTokenizer(tiktoken, size);
        }
        catch (Exception e) when (e is not DataException)
        {
            throw new DataFormatException(rankFile, $"cannot read tiktoken ranks: {e.Message}", e);
        }
    }

    /// <summary>
    /// A SentencePiece model (<c>tokenizer.model</c>, the protobuf file of Llama 1/2, Mistral, T5 and other checkpoints
    /// that ship no <c>tokenizer.json</c>), BPE (with or without byte fallback) or Unigram, read with
    /// Microsoft.ML.Tokenizers. Text is encoded as is: no beginning- or end-of-sentence token is added.
    /// </summary>
    /// <param name="modelFile">The model file.</param>
    /// <exception cref="DataNotFoundException">The file is missing.</exception>
    /// <exception cref="DataFormatException">The file is not a SentencePiece model, or one of a kind the library does not read.</exception>
    public static TextTokenizer FromSentencePieceModel(string modelFile)
    {
        if (!File.Exists(modelFile)) throw new DataNotFoundException(modelFile, "tokenizer file does not exist");
        try
        {
            using var stream = File.OpenRead(modelFile);
            var sentencePiece = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
            return new SentencePieceText(sentencePiece, sentencePiece.Vocabulary.Values.Concat(sentencePiece.SpecialTokens?.Values ?? []).DefaultIfEmpty(-1).Max() + 1);
        }
        catch (Exception e) when (e is not DataException)
        {
            throw new DataFormatException(modelFile, $"cannot read the SentencePiece model: {e.Message}", e);
        }
    }

    sealed class ByteTokenizer : TextTokenizer
    {
        public override int VocabularySize => 256;

        public override int[] Encode(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

        public override string Decode(IEnumerable<int> ids) =>
            Encoding.UTF8.GetString(ids.Select(id => id is >= 0 and < 256 ? (byte)id
                : throw new ArgumentOutOfRangeException(nameof(ids), id, "byte token ids are 0..255")).ToArray());
    }

    /// <summary>
    /// A SentencePiece model through Microsoft.ML.Tokenizers, made to give SentencePiece's own ids and text: a run of
    /// characters missing from the vocabulary (without byte fallback) is one unknown piece (the library gives one
    /// per character, so runs of the unknown id are merged), and decoding writes an unknown piece as " ⁇ " (the
    /// library drops it), byte pieces <c>&lt;0xNN&gt;</c> as UTF-8 bytes, ▁ as a space, control pieces as nothing.
    /// </summary>
    sealed class SentencePieceText : TextTokenizer
    {
        const string UnknownSurface = " \u2047 ";
        readonly SentencePieceTokenizer _tokenizer;
        readonly Dictionary<int, string> _pieces;

        public SentencePieceText(SentencePieceTokenizer tokenizer, int vocabularySize)
        {
            _tokenizer = tokenizer;
            VocabularySize = vocabularySize;
            _pieces = tokenizer.Vocabulary.ToDictionary(p => p.Value, p => p.Key);
        }

        public override int VocabularySize { get; }

        public override int[] Encode(string text)
        {
            var ids = _tokenizer.EncodeToIds(text);
            int unknown = _tokenizer.UnknownId;
            return ids.Where((id, i) => id != unknown || i == 0 || ids[i - 1] != unknown).ToArray();
        }

        public override string Decode(IEnumerable<int> ids)
        {
            var text = new StringBuilder();
            var bytes = new List<byte>();
            bool first = true;
            void Flush()
            {
                text.Append(Encoding.UTF8.GetString(bytes.ToArray()));
                bytes.Clear();
            }
            foreach (int id in ids)
            {
                if (id == _tokenizer.BeginningOfSentenceId || id == _tokenizer.EndOfSentenceId) continue;
                if (id == _tokenizer.UnknownId)
                {
                    Flush();
                    text.Append(UnknownSurface);
                }
                else if (!_pieces.TryGetValue(id, out string? piece))
                    throw new ArgumentOutOfRangeException(nameof(ids), id, $"id {id} is not in the SentencePiece vocabulary");
                else if (_tokenizer.ByteFallback && piece is ['<', '0', 'x', _, _, '>'] && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte value))
                    bytes.Add(value);
                else
                {
                    Flush();
                    // The dummy prefix: the space SentencePiece put before the text is not part of it.
                    if (first && _tokenizer.AddDummyPrefix && !_tokenizer.TreatWhitespaceAsSuffix && piece.StartsWith('\u2581')) piece = piece[1..];
                    text.Append(piece.Replace('\u2581', ' '));
                }
                first = false;
            }
            Flush();
            return text.ToString();
        }
    }

    sealed class LibraryTokenizer(Tokenizer tokenizer, int vocabularySize) : TextTokenizer
    {
        public override int VocabularySize => vocabularySize;

        public override int[] Encode(string text) => tokenizer.EncodeToIds(text).ToArray();

        public override string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);
    }
}
