using PruneSharp.Llm.Models;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Models;

public class DecoderModelTests
{
    public static TheoryData<string> Variants => new()
    {
        "gpt2", "gpt2-bare-untied-gelu-inverse-layer", "llama", "llama-mha-tied-no-prefix", "mistral-window", "qwen2", "opt", "opt-original-names",
    };

    static Tensor RandomIds(long batch, long length, int seed) =>
        randint(0, TinyCheckpoint.Vocabulary, [batch, length], generator: new Generator((ulong)seed), dtype: ScalarType.Int64);

    static double MaxDifference(Tensor a, Tensor b) => (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();

    [Theory]
    [MemberData(nameof(Variants))]
    public void Logits_match_a_naive_float64_reference(string variant)
    {
        var checkpoint = TinyCheckpoint.Named(variant);
        using var model = checkpoint.CreateModel();
        var ids = RandomIds(2, 7, 5);
        var expected = NaiveDecoder.Logits(checkpoint, ids);
        var actual = model.Logits(ids);
        Assert.Equal(new[] { 2L, 7, TinyCheckpoint.Vocabulary }, actual.shape);
        double scale = Math.Max(1, expected.abs().max().item<double>());
        Assert.True(MaxDifference(actual, expected) <= 1e-5 * scale, $"{variant}: max |difference| {MaxDifference(actual, expected)} (logits up to {scale})");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Changing_a_token_leaves_earlier_logits_unchanged(string variant)
    {
        using var model = TinyCheckpoint.Named(variant).CreateModel();
        var ids = RandomIds(1, 8, 6);
        var changed = ids.clone();
        changed[0, 5] = (ids[0, 5] + 1) % TinyCheckpoint.Vocabulary;
        var before = model.Logits(ids);
        var after = model.Logits(changed);
        Assert.True(MaxDifference(before[.., ..5], after[.., ..5]) <= 1e-6);
        Assert.True(MaxDifference(before[.., 5..], after[.., 5..]) > 1e-3);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Layer_by_layer_forward_equals_logits(string variant)
    {
        using var model = TinyCheckpoint.Named(variant).CreateModel();
        var ids = RandomIds(3, 6, 7);
        var hidden = model.Embed(ids);
        for (int i = 0; i < model.LayerCount; i++)
        {
            using var layer = model.LoadLayer(i);
            hidden = layer.Forward(hidden);
        }
        Assert.Equal(0, MaxDifference(model.Head(hidden), model.Logits(ids)));
    }

    [Fact]
    public void Loading_a_layer_reads_only_that_layers_tensors()
    {
        var checkpoint = TinyCheckpoint.Named("llama");
        var source = new InMemoryTensorSource(checkpoint.Tensors);
        using var model = DecoderModel.Create(checkpoint.Config, source);
        using var layer = model.LoadLayer(1);
        Assert.All(source.ReadNames, name => Assert.StartsWith("model.layers.1.", name));
        Assert.Equal(checkpoint.Tensors.Keys.Where(k => k.StartsWith("model.layers.1.")).Order(), source.ReadNames.Order());
    }

    [Fact]
    public void Observer_sees_each_linear_input_once_in_order_with_shared_inputs_shared()
    {
        using var model = TinyCheckpoint.Named("llama").CreateModel();
        using var layer = model.LoadLayer(0);
        var seen = new List<(LinearSite Site, long[] Shape, Tensor Input)>();
        using var output = layer.Forward(model.Embed(RandomIds(2, 5, 8)), (site, input) => seen.Add((site, input.shape, input)));
        Assert.Equal(layer.Linears, seen.Select(s => s.Site));
        Assert.Equal(["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"],
            seen.Select(s => s.Site.Name));
        Assert.All(seen, s => Assert.Equal(new[] { 2L, 5, s.Site.InFeatures }, s.Shape));
        Assert.Same(seen[0].Input, seen[1].Input);
        Assert.Same(seen[4].Input, seen[5].Input);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("opt")]
    public void Weights_changed_in_place_are_used_and_written_back_in_checkpoint_orientation(string variant)
    {
        var checkpoint = TinyCheckpoint.Named(variant);
        using var model = checkpoint.CreateModel();
        var ids = RandomIds(2, 6, 9);
        var pruned = new Dictionary<string, Tensor>(checkpoint.Tensors);
        using var layer = model.LoadLayer(1);
        foreach (var site in layer.Linears)
        {
            // Keep the larger half of each row: what a pruner writes into Weight in place.
            var threshold = site.Weight.abs().sort(dim: 1).Values[.., (int)(site.InFeatures / 2)].unsqueeze(1);
            site.Weight.copy_(site.Weight.where(site.Weight.abs().gt(threshold), 0));
            pruned[site.TensorName] = site.CheckpointTensor();
            Assert.Equal(checkpoint.Tensors[site.TensorName].shape, pruned[site.TensorName].shape);
        }
        var hidden = model.Embed(ids);
        using (var first = model.LoadLayer(0)) hidden = first.Forward(hidden);
        var logits = model.Head(layer.Forward(hidden));

        var expected = NaiveDecoder.Logits(new TinyCheckpoint { Json = checkpoint.Json, Tensors = pruned }, ids);
        Assert.True(MaxDifference(logits, expected) <= 1e-5 * Math.Max(1, expected.abs().max().item<double>()));
        Assert.True(MaxDifference(logits, model.Logits(ids)) > 1e-3);   // the checkpoint itself is untouched
    }

    [Fact]
    public void Opt_without_biases_or_norm_affines_equals_zero_biases_and_unit_norms()
    {
        var plain = TinyCheckpoint.Named("opt");
        foreach (string name in plain.Tensors.Keys.ToList())
        {
            if (name.EndsWith(".bias")) plain.Tensors[name] = zeros_like(plain.Tensors[name]);
            if (name.EndsWith("layer_norm.weight")) plain.Tensors[name] = ones_like(plain.Tensors[name]);
        }
        var stripped = new TinyCheckpoint
        {
            Json = (System.Text.Json.Nodes.JsonObject)plain.Json.DeepClone(),
            Tensors = plain.Tensors.Where(p => !p.Key.EndsWith(".bias") && !p.Key.EndsWith("layer_norm.weight")).ToDictionary(),
        };
        stripped.Json["enable_bias"] = false;
        stripped.Json["layer_norm_elementwise_affine"] = false;
        using var model = stripped.CreateModel();
        using var layer = model.LoadLayer(0);
        Assert.All(layer.Linears, site => Assert.Null(site.Bias));
        var ids = RandomIds(2, 5, 12);
        var expected = NaiveDecoder.Logits(plain, ids);
        Assert.True(MaxDifference(model.Logits(ids), expected) <= 1e-5 * Math.Max(1, expected.abs().max().item<double>()));
    }

    [Fact]
    public void Gpt2_conv1d_weights_are_presented_out_by_in_and_given_back_in_by_out()
    {
        var checkpoint = TinyCheckpoint.Gpt2(new() { ["n_embd"] = 8, ["n_inner"] = 40, ["activation_function"] = "gelu_new" }, "transformer.");
        using var model = checkpoint.CreateModel();
        using var layer = model.LoadLayer(0);
        var fc = layer.Linears.Single(s => s.Name == "mlp.c_fc");
        var stored = checkpoint.Tensors["transformer.h.0.mlp.c_fc.weight"];
        Assert.Equal(new long[] { 8, 40 }, stored.shape);
        Assert.Equal(new long[] { 40, 8 }, fc.Weight.shape);
        Assert.True(fc.StoredTransposed);
        Assert.Equal((40L, 8L), (fc.OutFeatures, fc.InFeatures));
        Assert.Equal("transformer.h.0.mlp.c_fc.weight", fc.TensorName);
        Assert.Equal(0, MaxDifference(fc.CheckpointTensor(), stored));
        var x = randn([3, 8], generator: new Generator(4));
        var expected = x.matmul(stored) + checkpoint.Tensors["transformer.h.0.mlp.c_fc.bias"];
        Assert.True(MaxDifference(nn.functional.linear(x, fc.Weight, fc.Bias), expected) < 1e-6);
        Assert.Equal(["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"], layer.Linears.Select(s => s.Name));
        Assert.Equal(new long[] { 24, 8 }, layer.Linears[0].Weight.shape);   // q | k | v fused along the output axis
    }

    [Theory]
    [InlineData("llama", "model.layers.1.mlp.down_proj.weight")]
    [InlineData("gpt2", "transformer.h.0.attn.c_attn.bias")]
    [InlineData("opt", "model.decoder.embed_positions.weight")]
    [InlineData("llama", "model.norm.weight")]
    public void A_missing_tensor_is_named_before_any_work(string variant, string missing)
    {
        var checkpoint = TinyCheckpoint.Named(variant);
        checkpoint.Tensors.Remove(missing);
        var error = Assert.Throws<CheckpointTensorException>(() => checkpoint.CreateModel());
        Assert.Equal(missing, error.TensorName);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_named()
    {
        var checkpoint = TinyCheckpoint.Named("qwen2");
        checkpoint.Tensors["model.layers.0.self_attn.k_proj.weight"] = zeros(16, 16);   // config: 2 kv heads of 4
        var error = Assert.Throws<CheckpointTensorException>(() => checkpoint.CreateModel());
        Assert.Contains("model.layers.0.self_attn.k_proj.weight", error.Message);
        Assert.Contains("[8, 16]", error.Message);
    }

    [Fact]
    public void An_untied_config_without_lm_head_is_refused_rather_than_tied()
    {
        var checkpoint = TinyCheckpoint.Named("llama");   // tie_word_embeddings: false
        checkpoint.Tensors.Remove(DecoderModel.LmHeadName);
        var error = Assert.Throws<CheckpointTensorException>(() => checkpoint.CreateModel());
        Assert.Equal(DecoderModel.LmHeadName, error.TensorName);
        Assert.Contains("tie_word_embeddings", error.Message);
    }

    [Theory]
    [InlineData("llama", "num_hidden_layers", "model.layers.1.")]
    [InlineData("gpt2", "n_layer", "transformer.h.1.")]
    [InlineData("opt", "num_hidden_layers", "model.decoder.layers.1.")]
    public void Weights_of_a_layer_past_the_configs_last_are_refused(string variant, string key, string prefix)
    {
        var checkpoint = TinyCheckpoint.Named(variant);
        checkpoint.Json[key] = 1;
        var error = Assert.Throws<CheckpointTensorException>(() => checkpoint.CreateModel());
        Assert.StartsWith(prefix, error.TensorName);
        Assert.Contains("1 layer(s)", error.Message);
    }

    [Fact]
    public void A_checkpoint_without_its_embedding_is_refused_naming_it()
    {
        var checkpoint = TinyCheckpoint.Named("gpt2");
        checkpoint.Tensors.Remove("transformer.wte.weight");
        var error = Assert.Throws<CheckpointTensorException>(() => checkpoint.CreateModel());
        Assert.Equal("transformer.wte.weight", error.TensorName);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("opt")]
    [InlineData("qwen2")]
    [InlineData("gpt2")]
    public void Parameter_count_is_the_size_of_every_weight_once(string variant)
    {
        var checkpoint = TinyCheckpoint.Named(variant);
        using var model = checkpoint.CreateModel();
        long expected = checkpoint.Tensors.Where(p => !p.Key.EndsWith(".attn.bias")).Sum(p => p.Value.numel());   // not GPT-2's mask buffers
        Assert.Equal(expected, model.ParameterCount);
        Assert.StartsWith($"{checkpoint.Config.ModelType}: 2 layers, width 16, 4 heads of", model.Description);
        Assert.Contains($"vocabulary {TinyCheckpoint.Vocabulary}", model.Description);
    }

    /// <summary>Full-size configs over shape-only (meta) tensors: the counts transformers' num_parameters() reports.</summary>
    public static TheoryData<string, long> PublishedModels => new()
    {
        { "gpt2", 124_439_808 },
        { "opt-125m", 125_239_296 },
        { "llama-2-7b", 6_738_415_616 },
        { "mistral-7b", 7_241_732_096 },
        { "qwen2-0.5b", 494_032_768 },
    };

    [Theory]
    [MemberData(nameof(PublishedModels))]
    public void Parameter_counts_of_full_size_configs_match_the_published_ones(string name, long expected)
    {
        var checkpoint = name switch
        {
            "gpt2" => TinyCheckpoint.Gpt2(new() { ["vocab_size"] = 50257, ["n_embd"] = 768, ["n_layer"] = 12, ["n_head"] = 12, ["n_positions"] = 1024 }, "", shapesOnly: true),
            "opt-125m" => TinyCheckpoint.Opt(new() { ["vocab_size"] = 50272, ["hidden_size"] = 768, ["ffn_dim"] = 3072, ["num_hidden_layers"] = 12,
                ["num_attention_heads"] = 12, ["max_position_embeddings"] = 2048, ["word_embed_proj_dim"] = 768 }, "decoder.", shapesOnly: true),
            "llama-2-7b" => TinyCheckpoint.Llama(new() { ["model_type"] = "llama", ["vocab_size"] = 32000, ["hidden_size"] = 4096, ["intermediate_size"] = 11008,
                ["num_hidden_layers"] = 32, ["num_attention_heads"] = 32, ["num_key_value_heads"] = 32 }, untied: true, shapesOnly: true),
            "mistral-7b" => TinyCheckpoint.Llama(new() { ["model_type"] = "mistral", ["vocab_size"] = 32000, ["hidden_size"] = 4096, ["intermediate_size"] = 14336,
                ["num_hidden_layers"] = 32, ["num_attention_heads"] = 32, ["num_key_value_heads"] = 8, ["sliding_window"] = 4096 }, untied: true, shapesOnly: true),
            _ => TinyCheckpoint.Llama(new() { ["model_type"] = "qwen2", ["vocab_size"] = 151936, ["hidden_size"] = 896, ["intermediate_size"] = 4864,
                ["num_hidden_layers"] = 24, ["num_attention_heads"] = 14, ["num_key_value_heads"] = 2, ["tie_word_embeddings"] = true }, shapesOnly: true),
        };
        using var model = checkpoint.CreateModel();
        Assert.Equal(expected, model.ParameterCount);
    }

    [Fact]
    public void Description_names_key_value_heads_and_an_untied_head()
    {
        using var model = TinyCheckpoint.Named("llama").CreateModel();
        Assert.Contains("4 heads of 8 (2 key/value heads)", model.Description);
        Assert.Contains("separate head", model.Description);
        Assert.False(model.HeadTied);
    }

    [Fact]
    public void Perplexity_is_the_exponential_of_the_mean_cross_entropy_of_the_logits()
    {
        using var model = TinyCheckpoint.Named("mistral-window").CreateModel();
        var tokens = RandomIds(1, 9, 10);
        var result = model.Perplexity(tokens[0].data<long>().Select(t => (int)t).ToArray(), contextLength: 8);
        var logits = model.Logits(tokens[.., ..8]);
        double nll = nn.functional.cross_entropy(logits[0], tokens[0, 1..]).item<float>();
        Assert.Equal(8, result.TokenCount);
        Assert.Equal(Math.Exp(nll), result.Perplexity, Math.Exp(nll) * 1e-5);
    }

    [Fact]
    public void Bad_token_ids_are_refused_with_the_problem_named()
    {
        using var model = TinyCheckpoint.Named("gpt2").CreateModel();
        Assert.Contains("vocabulary", Assert.Throws<ArgumentException>(() => model.Embed(tensor(new long[,] { { 1, 37 } }))).Message);
        Assert.Contains("n_positions 12", Assert.Throws<ArgumentException>(() => model.Embed(zeros(1, 13, dtype: ScalarType.Int64))).Message);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => model.Embed(zeros(1, 3))).Message);
        using var layer = model.LoadLayer(0);
        Assert.Throws<ArgumentException>(() => layer.Forward(zeros(1, 3, 15)));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.LoadLayer(2));
    }

    [Fact]
    public void Mistral_sliding_window_changes_results_only_past_the_window()
    {
        var windowed = TinyCheckpoint.Named("mistral-window");
        var full = new TinyCheckpoint { Json = (System.Text.Json.Nodes.JsonObject)windowed.Json.DeepClone(), Tensors = windowed.Tensors };
        full.Json["sliding_window"] = null;
        using var a = windowed.CreateModel();
        using var b = full.CreateModel();
        var ids = RandomIds(1, 6, 11);
        var (x, y) = (a.Logits(ids), b.Logits(ids));
        Assert.True(MaxDifference(x[.., ..3], y[.., ..3]) <= 1e-6);   // window 3: positions 0..2 see everything anyway
        Assert.True(MaxDifference(x[.., 3..], y[.., 3..]) > 1e-3);
    }
}
