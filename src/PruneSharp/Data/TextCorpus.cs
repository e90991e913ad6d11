using System.Text;

namespace PruneSharp.Data;

/// <summary>
/// A tokenised text corpus for language modelling, with a training part and a held-out part. The held-out part is
/// the last fraction of the token stream (the usual protocol when a corpus has no named split), or a separate file.
/// </summary>
public sealed class TextCorpus
{
    /// <summary>Holds already tokenised parts.</summary>
    public TextCorpus(int[] trainTokens, int[] heldOutTokens, TextTokenizer tokenizer)
    {
        TrainTokens = trainTokens;
        HeldOutTokens = heldOutTokens;
        Tokenizer = tokenizer;
    }

    /// <summary>Tokens used for training.</summary>
    public int[] TrainTokens { get; }

    /// <summary>Tokens held out for evaluation (perplexity).</summary>
    public int[] HeldOutTokens { get; }

    /// <summary>The tokenizer that produced the ids.</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>
    /// Reads a text file, or every <c>*.txt</c> file of a folder (sorted by name, joined with a newline), tokenises
    /// it, and keeps the last <paramref name="heldOutFraction"/> of the tokens as the held-out part.
    /// </summary>
    /// <exception cref="DataNotFoundException">The path does not exist.</exception>
    /// <exception cref="DataFormatException">The text is empty or too short to split.</exception>
    public static TextCorpus Load(string path, TextTokenizer tokenizer, double heldOutFraction = 0.1)
    {
        if (!(heldOutFraction is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(heldOutFraction), heldOutFraction, "held-out fraction must be in [0, 1)");
        int[] tokens = tokenizer.Encode(ReadText(path));
        if (tokens.Length < 2) throw new DataFormatException(path, $"corpus has {tokens.Length} token(s); at least 2 are needed");
        int heldOut = (int)Math.Round(tokens.Length * heldOutFraction);
        if (heldOutFraction > 0 && (heldOut < 2 || tokens.Length - heldOut < 2))
            throw new DataFormatException(path, $"corpus of {tokens.Length} tokens is too short to hold out {heldOutFraction:P0} and keep 2 tokens on each side");
        return new TextCorpus(tokens[..^heldOut], tokens[^heldOut..], tokenizer);
    }

    /// <summary>Reads the training text from <paramref name="trainPath"/> and the held-out text from <paramref name="heldOutPath"/> (files or folders).</summary>
    /// <exception cref="DataNotFoundException">A path does not exist.</exception>
    /// <exception cref="DataFormatException">A part has fewer than 2 tokens.</exception>
    public static TextCorpus Load(string trainPath, string heldOutPath, TextTokenizer tokenizer)
    {
        int[] train = tokenizer.Encode(ReadText(trainPath)), heldOut = tokenizer.Encode(ReadText(heldOutPath));
        if (train.Length < 2) throw new DataFormatException(trainPath, $"corpus has {train.Length} token(s); at least 2 are needed");
        if (heldOut.Length < 2) throw new DataFormatException(heldOutPath, $"corpus has {heldOut.Length} token(s); at least 2 are needed");
        return new TextCorpus(train, heldOut, tokenizer);
    }

    /// <summary>Training sequences of <paramref name="sequenceLength"/> tokens (non-overlapping), targets shifted by one.</summary>
    public TokenSequences TrainSequences(int sequenceLength) => new(TrainTokens, sequenceLength, Tokenizer.VocabularySize);

    /// <summary>Held-out sequences of <paramref name="sequenceLength"/> tokens (non-overlapping), targets shifted by one.</summary>
    public TokenSequences HeldOutSequences(int sequenceLength) => new(HeldOutTokens, sequenceLength, Tokenizer.VocabularySize);

    static string ReadText(string path)
    {
        if (File.Exists(path)) return File.ReadAllText(path, Encoding.UTF8);
        if (!Directory.Exists(path)) throw new DataNotFoundException(path, "text file or folder does not exist");
        var files = Directory.GetFiles(path, "*.txt", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new DataFormatException(path, "folder holds no *.txt files");
        return string.Join("\n", files.Select(f => File.ReadAllText(f, Encoding.UTF8)));
    }
}
