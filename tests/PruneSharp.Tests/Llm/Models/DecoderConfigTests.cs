using System.Text.Json;
using System.Text.Json.Nodes;
using PruneSharp.Llm.Models;

namespace PruneSharp.Tests.Llm.Models;

public class DecoderConfigTests
{
    static DecoderConfig Parse(string json) => DecoderConfig.Parse(JsonNode.Parse(json)!.AsObject(), "m/config.json");

    static ModelConfigException Refused(string json) => Assert.Throws<ModelConfigException>(() => Parse(json));

    const string Llama = """
        "model_type": "llama", "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
        "num_hidden_layers": 32, "num_attention_heads": 32
        """;

    [Fact]
    public void Gpt2_keys_and_defaults()
    {
        var c = Assert.IsType<Gpt2Config>(Parse("""
            { "model_type": "gpt2", "vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024,
              "n_ctx": 1024, "n_inner": null, "activation_function": "gelu_new", "torch_dtype": "float32" }
            """));
        Assert.Equal((768L, 12, 12, 64L, 3072L), (c.HiddenSize, c.LayerCount, c.HeadCount, c.HeadDim, c.IntermediateSize));
        Assert.Equal(12, c.KeyValueHeadCount);
        Assert.True(c.TiedEmbeddings);
        Assert.True(c.ScaleAttentionWeights);
        Assert.False(c.ScaleAttentionByInverseLayerIndex);
        Assert.Equal(1e-5, c.LayerNormEpsilon);
        Assert.Equal("float32", c.StoredDType);
        Assert.Equal(1024, c.MaxPositions);
    }

    [Fact]
    public void Llama_defaults_key_value_heads_head_width_theta_and_untied_head()
    {
        var c = Assert.IsType<LlamaConfig>(Parse($$"""{ {{Llama}}, "dtype": "bfloat16" }"""));
        Assert.Equal((32, 128L, 10000.0, 1e-6), (c.KeyValueHeadCount, c.HeadDim, c.RopeTheta, c.RmsNormEpsilon));
        Assert.False(c.TiedEmbeddings);
        Assert.Equal("silu", c.Activation);
        Assert.Equal("bfloat16", c.StoredDType);
        Assert.False(c.QkvBias || c.OutputBias || c.MlpBias);
        Assert.All(c.AttentionWindows, w => Assert.Null(w));
    }

    [Fact]
    public void Llama_reads_grouped_heads_head_dim_biases_and_the_newer_rope_parameters()
    {
        var c = Assert.IsType<LlamaConfig>(Parse($$"""
            { {{Llama}}, "num_key_value_heads": 8, "head_dim": 64, "attention_bias": true, "mlp_bias": true, "torch_dtype": "float16",
              "rope_parameters": { "rope_type": "default", "rope_theta": 500000.0 }, "rope_scaling": null }
            """));
        Assert.Equal((8, 64L, 500000.0), (c.KeyValueHeadCount, c.HeadDim, c.RopeTheta));
        Assert.True(c.QkvBias && c.OutputBias && c.MlpBias);
        Assert.Equal("float16", c.StoredDType);
    }

    [Fact]
    public void Qwen2_has_qkv_biases_only_and_windows_on_the_layers_its_config_names()
    {
        const string qwen = """
            "model_type": "qwen2", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 3,
            "num_attention_heads": 4, "num_key_value_heads": 2, "sliding_window": 16
            """;
        var c = Assert.IsType<LlamaConfig>(Parse($$"""{ {{qwen}}, "use_sliding_window": true, "max_window_layers": 1 }"""));
        Assert.True(c.QkvBias);
        Assert.False(c.OutputBias || c.MlpBias);
        Assert.Equal([null, 16L, 16L], c.AttentionWindows);
        var typed = Assert.IsType<LlamaConfig>(Parse($$"""{ {{qwen}}, "use_sliding_window": true, "layer_types": ["sliding_attention", "full_attention", "full_attention"] }"""));
        Assert.Equal([16L, null, null], typed.AttentionWindows);
        var off = Assert.IsType<LlamaConfig>(Parse($$"""{ {{qwen}}, "use_sliding_window": false }"""));
        Assert.Equal([null, null, null], off.AttentionWindows);
    }

    [Fact]
    public void Mistral_windows_every_layer_and_has_no_biases()
    {
        var c = Assert.IsType<LlamaConfig>(Parse("""
            { "model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 1, "sliding_window": 4096, "rope_theta": 1000000.0, "attention_bias": true }
            """));
        Assert.Equal([4096L, 4096L], c.AttentionWindows);
        Assert.False(c.QkvBias || c.OutputBias);
        Assert.Equal(1e6, c.RopeTheta);
    }

    [Fact]
    public void Opt_keys_and_defaults()
    {
        var c = Assert.IsType<OptConfig>(Parse("""
            { "model_type": "opt", "vocab_size": 50272, "hidden_size": 768, "ffn_dim": 3072, "num_hidden_layers": 12,
              "num_attention_heads": 12, "max_position_embeddings": 2048, "do_layer_norm_before": true, "word_embed_proj_dim": 768,
              "activation_function": "relu", "torch_dtype": "float16" }
            """));
        Assert.Equal((768L, 3072L, 64L, "relu"), (c.HiddenSize, c.IntermediateSize, c.HeadDim, c.Activation));
        Assert.True(c.Bias && c.LayerNormAffine && c.FinalLayerNorm && c.TiedEmbeddings);
    }

    [Fact]
    public void Parses_a_json_element_as_well()
    {
        using var document = JsonDocument.Parse($$"""{ {{Llama}} }""");
        Assert.IsType<LlamaConfig>(DecoderConfig.Parse(document.RootElement));
    }

    [Fact]
    public void A_number_past_the_range_of_double_is_refused_naming_the_key()
    {
        var error = Refused($$"""{ {{Llama}}, "rms_norm_eps": 1e400 }""");
        Assert.Equal("rms_norm_eps", error.Key);
        Assert.Contains("out of range", error.Message);
    }

    [Fact]
    public void Unknown_architecture_is_refused_naming_model_type()
    {
        var error = Refused("""{ "model_type": "bert", "vocab_size": 10 }""");
        Assert.Equal("model_type", error.Key);
        Assert.Contains("'bert'", error.Message);
        Assert.StartsWith("m/config.json: model_type:", error.Message);
        Assert.Equal("model_type", Refused("""{ "vocab_size": 10 }""").Key);
    }

    [Theory]
    [InlineData("rope_scaling", """{ "type": "linear", "factor": 2.0 }""", "linear")]
    [InlineData("rope_scaling", """{ "type": "dynamic", "factor": 2.0 }""", "dynamic")]
    [InlineData("rope_scaling", """{ "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768 }""", "yarn")]
    [InlineData("rope_scaling", """{ "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0 }""", "llama3")]
    [InlineData("rope_parameters", """{ "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0 }""", "llama3")]
    public void Scaled_rotary_embeddings_are_refused_naming_the_key(string key, string value, string type)
    {
        var error = Refused($$"""{ {{Llama}}, "{{key}}": {{value}} }""");
        Assert.Equal(key, error.Key);
        Assert.Contains($"'{type}'", error.Message);
    }

    [Fact]
    public void Default_rope_scaling_is_accepted()
    {
        var c = Assert.IsType<LlamaConfig>(Parse($$"""{ {{Llama}}, "rope_scaling": { "rope_type": "default", "rope_theta": 20000.0 } }"""));
        Assert.Equal(20000.0, c.RopeTheta);
    }

    [Theory]
    [InlineData("""{ "model_type": "opt", "vocab_size": 10, "hidden_size": 1024, "ffn_dim": 4096, "num_hidden_layers": 2, "num_attention_heads": 16, "max_position_embeddings": 2048, "do_layer_norm_before": false }""", "do_layer_norm_before")]
    [InlineData("""{ "model_type": "opt", "vocab_size": 10, "hidden_size": 1024, "ffn_dim": 4096, "num_hidden_layers": 2, "num_attention_heads": 16, "max_position_embeddings": 2048, "word_embed_proj_dim": 512 }""", "word_embed_proj_dim")]
    [InlineData("""{ "model_type": "llama", "vocab_size": 10, "intermediate_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2 }""", "hidden_size")]
    [InlineData("""{ "model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 3 }""", "num_key_value_heads")]
    [InlineData("""{ "model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "hidden_act": "gelu_fast" }""", "hidden_act")]
    [InlineData("""{ "model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 2.5, "num_attention_heads": 2 }""", "num_hidden_layers")]
    [InlineData("""{ "model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "partial_rotary_factor": 0.5 }""", "partial_rotary_factor")]
    [InlineData("""{ "model_type": "gpt2", "vocab_size": 10, "n_embd": 10, "n_layer": 2, "n_head": 4, "n_positions": 8 }""", "n_head")]
    [InlineData("""{ "model_type": "gpt2", "vocab_size": 10, "n_embd": 8, "n_layer": 2, "n_head": 4, "n_positions": 8, "scale_attn_weights": "yes" }""", "scale_attn_weights")]
    [InlineData("""{ "model_type": "gpt2", "vocab_size": -1, "n_embd": 8, "n_layer": 2, "n_head": 4, "n_positions": 8 }""", "vocab_size")]
    public void Unsupported_or_malformed_keys_are_refused_by_name(string json, string key)
    {
        Assert.Equal(key, Refused(json).Key);
    }
}
