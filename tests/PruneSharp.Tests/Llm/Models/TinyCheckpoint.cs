using System.Text.Json.Nodes;
using PruneSharp.Llm.Models;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Models;

/// <summary>
/// A tiny checkpoint of one family with random weights: its config.json and its tensors under the names real
/// checkpoints use (written out here independently of the library's own lists).
/// </summary>
sealed class TinyCheckpoint
{
    public const long Vocabulary = 37;

    public required JsonObject Json { get; init; }
    public required Dictionary<string, Tensor> Tensors { get; init; }

    public DecoderConfig Config => DecoderConfig.Parse(Json, "tiny/config.json");

    public DecoderModel CreateModel() => DecoderModel.Create(Config, new InMemoryTensorSource(Tensors));

    /// <summary>The variants the differential tests run, by name.</summary>
    public static TinyCheckpoint Named(string name) => name switch
    {
        "gpt2" => Gpt2(new JsonObject { ["activation_function"] = "gelu_new", ["n_inner"] = null }, "transformer."),
        "gpt2-bare-untied-gelu-inverse-layer" => Gpt2(new JsonObject
        {
            ["activation_function"] = "gelu", ["n_inner"] = 24, ["tie_word_embeddings"] = false,
            ["scale_attn_by_inverse_layer_idx"] = true, ["reorder_and_upcast_attn"] = true,
        }, "", untied: true),
        "llama" => Llama("llama", new JsonObject
        {
            ["num_key_value_heads"] = 2, ["head_dim"] = 8, ["rope_theta"] = 50.0, ["attention_bias"] = true, ["mlp_bias"] = true,
            ["tie_word_embeddings"] = false, ["rope_scaling"] = null,
        }, qkvBias: true, outputBias: true, mlpBias: true, untied: true),
        "llama-mha-tied-no-prefix" => Llama("llama", new JsonObject { ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = true }, prefix: ""),
        "mistral-window" => Llama("mistral", new JsonObject
        {
            ["num_key_value_heads"] = 1, ["sliding_window"] = 3,
            ["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 100.0 },
        }, untied: true),
        "qwen2" => Llama("qwen2", new JsonObject
        {
            ["num_key_value_heads"] = 2, ["tie_word_embeddings"] = true, ["use_sliding_window"] = false, ["sliding_window"] = 2,
        }, qkvBias: true),
        "opt" => Opt("model.decoder."),
        "opt-original-names" => Opt("decoder."),
        _ => throw new ArgumentException(name),
    };

    public static TinyCheckpoint Gpt2(JsonObject extra, string prefix, bool untied = false, long width = 16, long positions = 12, int seed = 1)
    {
        var json = Merge(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = Vocabulary, ["n_embd"] = width, ["n_layer"] = 2, ["n_head"] = 4,
            ["n_positions"] = positions, ["layer_norm_epsilon"] = 1e-5, ["torch_dtype"] = "float32",
        }, extra);
        long inner = ConfigNumbers.OptionalLong(json["n_inner"]) ?? 4 * width;
        var w = new Weights(seed);
        w.Matrix($"{prefix}wte.weight", Vocabulary, width);
        w.Matrix($"{prefix}wpe.weight", positions, width);
        for (int i = 0; i < 2; i++)
        {
            string p = $"{prefix}h.{i}.";
            w.Norm($"{p}ln_1", width, bias: true);
            w.Matrix($"{p}attn.c_attn.weight", width, 3 * width).Vector($"{p}attn.c_attn.bias", 3 * width);   // Conv1D: [in, out]
            w.Matrix($"{p}attn.c_proj.weight", width, width).Vector($"{p}attn.c_proj.bias", width);
            w.Norm($"{p}ln_2", width, bias: true);
            w.Matrix($"{p}mlp.c_fc.weight", width, inner).Vector($"{p}mlp.c_fc.bias", inner);
            w.Matrix($"{p}mlp.c_proj.weight", inner, width).Vector($"{p}mlp.c_proj.bias", width);
            w.Tensors[$"{p}attn.bias"] = ones(1, 1, positions, positions).tril();   // the causal-mask buffer old checkpoints carry
        }
        w.Norm($"{prefix}ln_f", width, bias: true);
        if (untied) w.Matrix("lm_head.weight", Vocabulary, width);
        return new TinyCheckpoint { Json = json, Tensors = w.Tensors };
    }

    public static TinyCheckpoint Llama(string modelType, JsonObject extra, bool qkvBias = false, bool outputBias = false, bool mlpBias = false,
        bool untied = false, string prefix = "model.", int layers = 2, int seed = 2)
    {
        const long width = 16, inner = 24;
        var json = Merge(new JsonObject
        {
            ["model_type"] = modelType, ["vocab_size"] = Vocabulary, ["hidden_size"] = width, ["intermediate_size"] = inner,
            ["num_hidden_layers"] = layers, ["num_attention_heads"] = 4, ["rms_norm_eps"] = 1e-6, ["hidden_act"] = "silu",
            ["max_position_embeddings"] = 64, ["dtype"] = "bfloat16",
        }, extra);
        long heads = 4, kvHeads = ConfigNumbers.OptionalLong(json["num_key_value_heads"]) ?? heads;
        long headDim = ConfigNumbers.OptionalLong(json["head_dim"]) ?? width / heads;
        var w = new Weights(seed);
        w.Matrix($"{prefix}embed_tokens.weight", Vocabulary, width);
        for (int i = 0; i < layers; i++)
        {
            string p = $"{prefix}layers.{i}.";
            w.Norm($"{p}input_layernorm", width, bias: false);
            w.Linear($"{p}self_attn.q_proj", heads * headDim, width, qkvBias);
            w.Linear($"{p}self_attn.k_proj", kvHeads * headDim, width, qkvBias);
            w.Linear($"{p}self_attn.v_proj", kvHeads * headDim, width, qkvBias);
            w.Linear($"{p}self_attn.o_proj", width, heads * headDim, outputBias);
            w.Norm($"{p}post_attention_layernorm", width, bias: false);
            w.Linear($"{p}mlp.gate_proj", inner, width, mlpBias);
            w.Linear($"{p}mlp.up_proj", inner, width, mlpBias);
            w.Linear($"{p}mlp.down_proj", width, inner, mlpBias);
        }
        w.Norm($"{prefix}norm", width, bias: false);
        if (untied) w.Matrix("lm_head.weight", Vocabulary, width);
        return new TinyCheckpoint { Json = json, Tensors = w.Tensors };
    }

    public static TinyCheckpoint Opt(string prefix, int seed = 3)
    {
        const long width = 16, ffn = 32, positions = 12;
        var json = new JsonObject
        {
            ["model_type"] = "opt", ["vocab_size"] = Vocabulary, ["hidden_size"] = width, ["ffn_dim"] = ffn, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["max_position_embeddings"] = positions, ["activation_function"] = "relu",
            ["do_layer_norm_before"] = true, ["word_embed_proj_dim"] = width, ["enable_bias"] = true, ["torch_dtype"] = "float16",
        };
        var w = new Weights(seed);
        w.Matrix($"{prefix}embed_tokens.weight", Vocabulary, width);
        w.Matrix($"{prefix}embed_positions.weight", positions + 2, width);
        for (int i = 0; i < 2; i++)
        {
            string p = $"{prefix}layers.{i}.";
            w.Norm($"{p}self_attn_layer_norm", width, bias: true);
            foreach (string name in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) w.Linear($"{p}self_attn.{name}", width, width, bias: true);
            w.Norm($"{p}final_layer_norm", width, bias: true);
            w.Linear($"{p}fc1", ffn, width, bias: true);
            w.Linear($"{p}fc2", width, ffn, bias: true);
        }
        w.Norm($"{prefix}final_layer_norm", width, bias: true);
        return new TinyCheckpoint { Json = json, Tensors = w.Tensors };
    }

    static JsonObject Merge(JsonObject json, JsonObject extra)
    {
        foreach (var (key, value) in extra.ToList())
        {
            extra.Remove(key);
            json[key] = value;
        }
        return json;
    }

    /// <summary>Random weights large enough that attention is far from uniform and every term matters.</summary>
    sealed class Weights(int seed)
    {
        readonly Generator _generator = new((ulong)seed);

        public Dictionary<string, Tensor> Tensors { get; } = [];

        public Weights Matrix(string name, long rows, long columns)
        {
            Tensors[name] = randn([rows, columns], generator: _generator).mul(0.4);
            return this;
        }

        public Weights Vector(string name, long size)
        {
            Tensors[name] = randn([size], generator: _generator).mul(0.2);
            return this;
        }

        public void Linear(string name, long outputs, long inputs, bool bias)
        {
            Matrix($"{name}.weight", outputs, inputs);
            if (bias) Vector($"{name}.bias", outputs);
        }

        public void Norm(string name, long width, bool bias)
        {
            Tensors[$"{name}.weight"] = randn([width], generator: _generator).mul(0.2).add(1);
            if (bias) Vector($"{name}.bias", width);
        }
    }
}
