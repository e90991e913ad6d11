using PruneSharp.Llm.Decoding;
using PruneSharp.Tests.Llm.Models;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Decoding;

public class TextGenerationTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    [InlineData("opt")]
    public void Greedy_generation_equals_the_argmax_of_the_full_sequence_recomputed_per_token(string variant)
    {
        using var model = TinyCheckpoint.Named(variant).CreateModel();
        int[] prompt = [3, 14, 15];
        using var decoder = IncrementalDecoder.Load(model, new DecodeOptions());
        var generated = TextGeneration.Generate(decoder, prompt, 6, new SamplingOptions());

        var sequence = prompt.ToList();
        for (int i = 0; i < 6; i++)
        {
            using var logits = model.Logits(tensor(sequence.Select(t => (long)t).ToArray(), new long[] { 1, sequence.Count }));
            sequence.Add((int)logits[0, -1].argmax().item<long>());
        }
        Assert.Equal(sequence.Skip(prompt.Length), generated.Tokens);
        Assert.Equal(5, generated.Steps);
        Assert.True(generated.TokensPerSecond > 0);
    }

    [Fact]
    public void Sampling_repeats_with_its_seed_and_top_1_is_greedy()
    {
        using var model = TinyCheckpoint.Named("llama").CreateModel();
        IReadOnlyList<int> Run(SamplingOptions sampling)
        {
            using var decoder = IncrementalDecoder.Load(model, new DecodeOptions());
            return TextGeneration.Generate(decoder, [1, 2, 3], 12, sampling).Tokens;
        }
        var hot = new SamplingOptions { Temperature = 5, Seed = 7 };
        Assert.Equal(Run(hot), Run(hot));
        Assert.NotEqual(Run(hot), Run(hot with { Seed = 8 }));
        Assert.Equal(Run(new SamplingOptions()), Run(new SamplingOptions { Temperature = 2, TopK = 1, Seed = 9 }));
    }

    [Fact]
    public void Generating_past_learned_positions_is_refused_before_any_work()
    {
        using var model = TinyCheckpoint.Named("gpt2").CreateModel();
        using var decoder = IncrementalDecoder.Load(model, new DecodeOptions());
        var error = Assert.Throws<ArgumentException>(() => TextGeneration.Generate(decoder, [1, 2, 3], 11, new SamplingOptions()));
        Assert.Contains("positions", error.Message);
        Assert.Equal(0, decoder.Cache.Length);
    }
}
