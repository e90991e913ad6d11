using PruneSharp.Llm.Decoding;
using PruneSharp.Tests.Llm.Models;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Decoding;

public class IncrementalDecoderTests
{
    public static TheoryData<string> Variants => new()
    {
        "gpt2", "gpt2-bare-untied-gelu-inverse-layer", "llama", "llama-mha-tied-no-prefix", "mistral-window", "qwen2", "opt", "opt-original-names",
    };

    static int[] RandomTokens(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next((int)TinyCheckpoint.Vocabulary)).ToArray();
    }

    /// <summary>max |a − b| over max(1, max |b|).</summary>
    static double RelativeDifference(Tensor actual, Tensor expected)
    {
        double scale = Math.Max(1, expected.abs().max().item<float>());
        return (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>() / scale;
    }

    /// <summary>Logits of <paramref name="tokens"/> decoded as a prefill of <paramref name="prompt"/> tokens and one step per remaining token, [T, V].</summary>
    static Tensor Decode(IncrementalDecoder decoder, int[] tokens, int prompt)
    {
        var rows = new List<Tensor> { decoder.Prefill(tokens[..prompt]) };
        foreach (int token in tokens[prompt..]) rows.Add(decoder.Step(token).unsqueeze(0));
        return cat(rows, dim: 0);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Prefill_and_steps_give_the_full_sequence_logits_at_every_position(string variant)
    {
        using var model = TinyCheckpoint.Named(variant).CreateModel();
        var tokens = RandomTokens(10, 11);
        using var full = model.Logits(tensor(tokens.Select(t => (long)t).ToArray(), new long[] { 1, tokens.Length }))[0];
        foreach (int prompt in new[] { 1, 4 })
        {
            using var decoder = IncrementalDecoder.Load(model, new DecodeOptions());
            using var decoded = Decode(decoder, tokens, prompt);
            Assert.Equal(tokens.Length, decoder.Cache.Length);
            Assert.True(RelativeDifference(decoded, full) <= 1e-4, $"{variant}, prompt {prompt}: relative difference {RelativeDifference(decoded, full)}");
        }
    }

    [Fact]
    public void Cleared_cache_starts_the_sequence_over()
    {
        using var model = TinyCheckpoint.Named("llama").CreateModel();
        using var decoder = IncrementalDecoder.Load(model, new DecodeOptions());
        var tokens = RandomTokens(6, 12);
        using var first = Decode(decoder, tokens, 2);
        decoder.Cache.Clear();
        using var again = Decode(decoder, tokens, 3);
        Assert.True(RelativeDifference(again, first) <= 1e-5);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("opt")]
    public void Decoding_past_the_learned_positions_is_refused(string variant)
    {
        using var model = TinyCheckpoint.Named(variant).CreateModel();
        using var decoder = IncrementalDecoder.Load(model, new DecodeOptions());
        using var logits = decoder.Prefill(RandomTokens((int)model.Config.MaxPositions, 13));
        var error = Assert.Throws<ArgumentException>(() => decoder.Step(1));
        Assert.Contains("positions", error.Message);
    }

    /// <summary>
    /// Zeroes the smallest-magnitude <paramref name="sparsity"/> of every projection weight (2-D tensors of the layers),
    /// or keeps the 2 largest of every 4 along the input axis.
    /// </summary>
    static TinyCheckpoint Pruned(string variant, double sparsity, bool twoFour = false)
    {
        var checkpoint = TinyCheckpoint.Named(variant);
        foreach (var name in checkpoint.Tensors.Keys.ToList())
        {
            var weight = checkpoint.Tensors[name];
            if (weight.dim() != 2 || !name.Contains("layers.") && !name.Contains("h.")) continue;
            bool storedTransposed = variant.StartsWith("gpt2");   // Conv1D: [in, out]
            var w = storedTransposed ? weight.t() : weight;
            Tensor mask;
            if (twoFour)
            {
                var groups = w.abs().reshape(w.shape[0], -1, 4);
                var keep = groups.topk(2, dim: -1).indexes;
                mask = zeros_like(groups).scatter(-1, keep, ones_like(groups)).reshape(w.shape);
            }
            else
            {
                long zeroCount = (long)Math.Round(sparsity * w.numel());
                var threshold = w.abs().flatten().kthvalue(zeroCount, 0).values;
                mask = w.abs().gt(threshold).to(ScalarType.Float32);
            }
            var pruned = w.mul(mask);
            checkpoint.Tensors[name] = storedTransposed ? pruned.t().contiguous() : pruned.contiguous();
        }
        return checkpoint;
    }

    /// <summary>
    /// The compact format is bitmap below the measured crossover (PruneSharp.Sparse.UnstructuredFormat): at 70 % and
    /// for 2:4 (whose 4 × 0.5 + 1/8 bytes per weight are fewer than 2:4's 2.5), CSR above it at 96 %.
    /// </summary>
    [Theory]
    [InlineData("llama", false, 0.7, "bitmap")]
    [InlineData("llama", true, 0.5, "bitmap")]
    [InlineData("llama", false, 0.96, "csr")]
    [InlineData("gpt2", false, 0.7, "bitmap")]
    [InlineData("opt", false, 0.7, "bitmap")]
    public void Sparse_decoding_gives_the_dense_decoding_logits(string variant, bool twoFour, double sparsity, string format)
    {
        var checkpoint = Pruned(variant, sparsity, twoFour);
        using var model = checkpoint.CreateModel();
        var tokens = RandomTokens(9, 14);
        using var denseDecoder = IncrementalDecoder.Load(model, new DecodeOptions());
        using var sparseDecoder = IncrementalDecoder.Load(model, new DecodeOptions { Sparse = true, MinSparsity = 0.45, Threads = 2 });
        using var dense = Decode(denseDecoder, tokens, 3);
        using var sparse = Decode(sparseDecoder, tokens, 3);
        Assert.True(RelativeDifference(sparse, dense) <= 1e-4, $"relative difference {RelativeDifference(sparse, dense)}");

        Assert.All(sparseDecoder.Plans, p => Assert.Equal(format, p.Format));
        Assert.All(denseDecoder.Plans, p => Assert.Equal("dense", p.Format));
        Assert.All(sparseDecoder.Plans, p => Assert.InRange(p.Sparsity, sparsity - 0.01, sparsity + 0.01));
        Assert.True(sparseDecoder.Plans.Sum(p => p.Bytes) < denseDecoder.Plans.Sum(p => p.Bytes));
    }

    [Fact]
    public void Projections_below_the_minimum_sparsity_stay_dense()
    {
        using var model = Pruned("llama", 0.3).CreateModel();
        using var decoder = IncrementalDecoder.Load(model, new DecodeOptions { Sparse = true, MinSparsity = 0.4 });
        Assert.All(decoder.Plans, p => Assert.Equal("dense", p.Format));
    }

    [Fact]
    public void A_compacted_projection_frees_its_dense_weight_and_reads_fewer_bytes()
    {
        using var model = Pruned("opt", 0.7).CreateModel();
        using var layer = model.LoadLayer(0);
        var site = layer.Linears[0];
        long denseBytes = site.WeightBytes;
        using var x = randn(1, 3, site.InFeatures);
        using var before = site.Apply(x);
        site.Compact(PruneSharp.Sparse.CsrMatrix.FromTensor(site.Weight), threads: 1);
        Assert.Throws<InvalidOperationException>(() => site.Weight);
        Assert.True(site.WeightBytes < denseBytes);
        using var after = site.Apply(x);
        Assert.True(RelativeDifference(after, before) <= 1e-5);
    }
}
