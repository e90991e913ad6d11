using System.CommandLine;
using System.Globalization;
using PruneSharp.Pipelines;
using PruneSharp.Data;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// The flags of <c>train</c> and <c>eval</c> that only language models read. A <c>--data</c> value that names a text
/// file (or ends in <c>.txt</c>) selects language modelling: the text is tokenised byte by byte (UTF-8, 256 ids) or with
/// a tiktoken rank file, and its last <c>--held-out</c> fraction of tokens is kept for perplexity.
/// </summary>
sealed class LanguageModelFlags
{
    public Option<int> Context { get; } = new("--context") { Description = "Language models: tokens per training sequence and per evaluation window.", DefaultValueFactory = _ => 128 };
    public Option<int> Layers { get; } = new("--gpt-layers") { Description = "tiny-gpt: transformer blocks.", DefaultValueFactory = _ => 4 };
    public Option<int> Heads { get; } = new("--gpt-heads") { Description = "tiny-gpt: attention heads per block.", DefaultValueFactory = _ => 4 };
    public Option<int> Width { get; } = new("--gpt-width") { Description = "tiny-gpt: model width (a multiple of --gpt-heads).", DefaultValueFactory = _ => 128 };
    public Option<bool> Untied { get; } = new("--gpt-untied") { Description = "tiny-gpt: a separate output head instead of one tied to the token embedding (lets --structured channel --approximate prune the width)." };
    public Option<double> HeldOut { get; } = new("--held-out") { Description = "Language models: fraction of the text (its end) held out for perplexity.", DefaultValueFactory = _ => 0.1 };
    public Option<string> Tokenizer { get; } = new("--tokenizer")
    {
        Description = "bytes (UTF-8 bytes, 256 ids), tiktoken:FILE (a tiktoken rank file), wordpiece:FILE (a BERT vocab.txt, uncased, or a WordPiece tokenizer.json; text is then one encoder input per line), FILE.json (a BPE tokenizer.json) or FILE.model (a SentencePiece model).",
        DefaultValueFactory = _ => "bytes",
    };

    public IEnumerable<Option> All => new Option[] { Context, Layers, Heads, Width, Untied, HeldOut, Tokenizer };

    /// <summary>The corpus in <paramref name="path"/>, tokenised and split as the flags say.</summary>
    public TextCorpus Corpus(ParseResult parse, string path)
    {
        double heldOut = parse.GetValue(HeldOut);
        if (!(heldOut is > 0 and < 1)) throw new ArgumentException($"--held-out must be in (0, 1), got {heldOut.ToString(CultureInfo.InvariantCulture)}");
        return TextCorpus.Load(path, Sources.Tokenizer(parse.GetValue(Tokenizer)!), heldOut);
    }

    /// <summary>The corpus in <paramref name="path"/>, the context length, and the training part cut into sequences of that length (at least one).</summary>
    public (TextCorpus Corpus, int Context, TokenSequences Train) TrainingText(ParseResult parse, string path)
    {
        var corpus = Corpus(parse, path);
        int context = ContextLength(parse);
        var train = corpus.TrainSequences(context);
        if (train.Count == 0) throw new ArgumentException($"the training text of {corpus.TrainTokens.Length} tokens holds no sequence of --context {context}");
        return (corpus, context, train);
    }

    /// <summary>The context length, checked.</summary>
    public int ContextLength(ParseResult parse)
    {
        int context = parse.GetValue(Context);
        if (context < 2) throw new ArgumentException($"--context must be at least 2 tokens, got {context}");
        return context;
    }

    /// <summary>The language model's settings the flags give (checked by the library).</summary>
    public TextModelDescription Description(ParseResult parse) => new(parse.GetValue(Context), parse.GetValue(Layers), parse.GetValue(Heads), parse.GetValue(Width),
        parse.GetValue(Untied), parse.GetValue(HeldOut), parse.GetValue(Tokenizer)!);

    /// <summary>Prints held-out perplexity and the protocol that produced it.</summary>
    public static void Print(PerplexityResult p) =>
        Console.WriteLine($"held-out: perplexity {p.Perplexity.ToString("F3", CultureInfo.InvariantCulture)}  " +
            $"({(p.MeanNegativeLogLikelihood / Math.Log(2)).ToString("F3", CultureInfo.InvariantCulture)} bits/token; {p.Protocol})");
}
