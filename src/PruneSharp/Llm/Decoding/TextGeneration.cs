using System.Diagnostics;
using PruneSharp.Llm.Models;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Decoding;

/// <summary>How the next token is picked from the logits.</summary>
public sealed record SamplingOptions
{
    /// <summary>0: greedy (the most likely token; the lowest id among equals). Above 0: sample from softmax(logits / temperature).</summary>
    public double Temperature { get; init; }

    /// <summary>When sampling, only the <see cref="TopK"/> most likely tokens are candidates (0: all).</summary>
    public int TopK { get; init; }

    /// <summary>Seeds the sampler, so a run can be repeated.</summary>
    public int Seed { get; init; }
}

/// <summary>Tokens generated after a prompt, and how long it took.</summary>
/// <param name="Prompt">The prompt's token ids.</param>
/// <param name="Tokens">The generated token ids.</param>
/// <param name="PrefillSeconds">Time to run the prompt and pick the first token.</param>
/// <param name="DecodeSeconds">Time of the one-token steps that produced the other tokens.</param>
public sealed record GenerationResult(IReadOnlyList<int> Prompt, IReadOnlyList<int> Tokens, double PrefillSeconds, double DecodeSeconds)
{
    /// <summary>One-token steps taken (one fewer than the tokens: the first comes from the prefill).</summary>
    public int Steps => Math.Max(0, Tokens.Count - 1);

    /// <summary>Tokens per second of the one-token steps (NaN without any).</summary>
    public double TokensPerSecond => Steps == 0 ? double.NaN : Steps / DecodeSeconds;
}

/// <summary>A generated text, its tokens and the decoder that made them.</summary>
/// <param name="Text">The generated tokens decoded (without the prompt).</param>
/// <param name="Generation">Tokens and timing.</param>
/// <param name="Plans">How each projection ran.</param>
/// <param name="WeightBytesPerToken">Weight bytes one step reads (<see cref="IncrementalDecoder.WeightBytesPerToken"/>).</param>
public sealed record GeneratedText(string Text, GenerationResult Generation, IReadOnlyList<ProjectionPlan> Plans, long WeightBytesPerToken);

/// <summary>Autoregressive generation with an <see cref="IncrementalDecoder"/>: a prefill of the prompt, then one step per token.</summary>
public static class TextGeneration
{
    /// <summary>
    /// Continues <paramref name="prompt"/> (appended to what the decoder's cache holds) by <paramref name="count"/>
    /// tokens picked by <paramref name="sampling"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An empty prompt, a count below 1, bad sampling options, or more positions than a learned position table has.</exception>
    public static GenerationResult Generate(IncrementalDecoder decoder, IReadOnlyList<int> prompt, int count, SamplingOptions sampling,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        if (prompt.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        if (count < 1) throw new ArgumentException($"the number of tokens to generate must be at least 1, got {count}", nameof(count));
        if (sampling.Temperature < 0 || double.IsNaN(sampling.Temperature)) throw new ArgumentException($"temperature must be 0 (greedy) or positive, got {sampling.Temperature}");
        if (sampling.TopK < 0) throw new ArgumentException($"top-k must be 0 (all tokens) or positive, got {sampling.TopK}");
        var config = decoder.Model.Config;
        long positions = decoder.Cache.Length + prompt.Count + count - 1;
        if (config is not LlamaConfig && positions > config.MaxPositions)
            throw new ArgumentException($"{decoder.Cache.Length + prompt.Count} prompt tokens and {count} generated need {positions} positions; {config.ModelType} learned {config.MaxPositions}");

        var random = new Random(sampling.Seed);
        var tokens = new List<int>(count);
        var clock = Stopwatch.StartNew();
        using (var logits = decoder.Prefill(prompt))
        using (var last = logits[-1])
            tokens.Add(Pick(last, sampling, random));
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();
        while (tokens.Count < count)
        {
            cancellation.ThrowIfCancellationRequested();
            using var logits = decoder.Step(tokens[^1]);
            tokens.Add(Pick(logits, sampling, random));
        }
        return new GenerationResult(prompt.ToArray(), tokens, prefill, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Opens the checkpoint in <paramref name="folder"/>, encodes <paramref name="prompt"/> with its tokenizer, loads an
    /// <see cref="IncrementalDecoder"/> with <paramref name="options"/> and generates <paramref name="count"/> tokens.
    /// </summary>
    public static GeneratedText FromCheckpoint(string folder, string prompt, int count, DecodeOptions options, SamplingOptions sampling,
        CancellationToken cancellation = default)
    {
        using var checkpoint = LanguageModelCheckpoint.Open(folder);
        var tokenizer = checkpoint.Tokenizer();
        var ids = tokenizer.Encode(prompt);
        if (ids.Length == 0) throw new ArgumentException("the prompt encodes to no tokens", nameof(prompt));
        using var decoder = IncrementalDecoder.Load(checkpoint.Model, options, cancellation);
        var result = Generate(decoder, ids, count, sampling, cancellation);
        return new GeneratedText(tokenizer.Decode(result.Tokens), result, decoder.Plans, decoder.WeightBytesPerToken);
    }

    /// <summary>The next token from logits [V].</summary>
    static int Pick(Tensor logits, SamplingOptions sampling, Random random)
    {
        var values = logits.data<float>().ToArray();
        if (sampling.Temperature == 0)
        {
            int best = 0;
            for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
            return best;
        }
        int[] order = Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).ToArray();
        if (sampling.TopK > 0 && sampling.TopK < order.Length) order = order[..sampling.TopK];
        double top = values[order[0]];
        double[] weights = order.Select(i => Math.Exp((values[i] - top) / sampling.Temperature)).ToArray();
        double draw = random.NextDouble() * weights.Sum();
        for (int k = 0; k < order.Length; k++)
        {
            draw -= weights[k];
            if (draw < 0) return order[k];
        }
        return order[^1];
    }
}
