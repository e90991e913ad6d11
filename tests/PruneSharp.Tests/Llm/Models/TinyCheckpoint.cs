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
        "llama" => Llama(new JsonObject
        {
            ["model_type"] = "llama", ["num_key_value_heads"] = 2, ["head_dim"] = 8, ["rope_theta"] = 50.0, ["attention_bias"] = true,
            ["mlp_bias"] = true, ["tie_word_embeddings"] = false, ["rope_scaling"] = null,
        }, untied: true),
        "llama-mha-tied-no-prefix" => Llama(new JsonObject { ["model_type"] = "llama", ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = true }, prefix: ""),
        "mistral-window" => Llama(new JsonObject
        {
            ["model_type"] = "mistral", ["num_key_value_heads"] = 1, ["sliding_window"] = 3,
            ["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 100.0 },
        }, untied: true),
        "qwen2" => Llama(new JsonObject
        {
            ["model_type"] = "qwen2", ["num_key_value_heads"] = 2, ["tie_word_embeddings"] = true, ["use_sliding_window"] = false, ["sliding_window"] = 2,
        }),
        "opt" => Opt(new JsonObject(), "model.decoder."),
        "opt-original-names" => Opt(new JsonObject(), "decoder."),
        _ => throw new ArgumentException(name),
    };

    /// <summary>A GPT-2 checkpoint: tiny sizes unless <paramref name="extra"/> overrides them; with <paramref name="shapesOnly"/>, meta tensors (shapes, no data).</summary>
    public static TinyCheckpoint Gpt2(JsonObject extra, string prefix, bool untied = false, bool shapesOnly = false, int seed = 1)
    {
        var json = Merge(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = Vocabulary, ["n_embd"] = 16, ["n_layer"] = 2, ["n_head"] = 4,
            ["n_positions"] = 12, ["layer_norm_epsilon"] = 1e-5, ["torch_dtype"] = "float32",
        }, extra);
        long vocabulary = ConfigNumbers.Long(json["vocab_size"]), width = ConfigNumbers.Long(json["n_embd"]), positions = ConfigNumbers.Long(json["n_positions"]);
        long inner = ConfigNumbers.OptionalLong(json["n_inner"]) ?? 4 * width;
        var w = new Weights(seed, shapesOnly);
        w.Matrix($"{prefix}wte.weight", vocabulary, width);
        w.Matrix($"{prefix}wpe.weight", positions, width);
        for (int i = 0; i < ConfigNumbers.Long(json["n_layer"]); i++)
        {
            string p = $"{prefix}h.{i}.";
            w.Norm($"{p}ln_1", width, bias: true);
            w.Matrix($"{p}attn.c_attn.weight", width, 3 * width).Vector($"{p}attn.c_attn.bias", 3 * width);   // Conv1D: [in, out]
            w.Matrix($"{p}attn.c_proj.weight", width, width).Vector($"{p}attn.c_proj.bias", width);
            w.Norm($"{p}ln_2", width, bias: true);
            w.Matrix($"{p}mlp.c_fc.weight", width, inner).Vector($"{p}mlp.c_fc.bias", inner);
            w.Matrix($"{p}mlp.c_proj.weight", inner, width).Vector($"{p}mlp.c_proj.bias", width);
            w.Buffer($"{p}attn.bias", 1, 1, positions, positions);   // the causal-mask buffer old checkpoints carry
        }
        w.Norm($"{prefix}ln_f", width, bias: true);
        if (untied) w.Matrix("lm_head.weight", vocabulary, width);
        return new TinyCheckpoint { Json = json, Tensors = w.Tensors };
    }

    /// <summary>A Llama, Mistral or Qwen2 checkpoint (by <c>model_type</c> in <paramref name="extra"/>); biases as each family has them.</summary>
    public static TinyCheckpoint Llama(JsonObject extra, bool untied = false, string prefix = "model.", bool shapesOnly = false, int seed = 2)
    {
        var json = Merge(new JsonObject
        {
            ["vocab_size"] = Vocabulary, ["hidden_size"] = 16, ["intermediate_size"] = 24, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["rms_norm_eps"] = 1e-6, ["hidden_act"] = "silu", ["max_position_embeddings"] = 64, ["dtype"] = "bfloat16",
        }, extra);
        string type = json["model_type"]!.GetValue<string>();
        long vocabulary = ConfigNumbers.Long(json["vocab_size"]), width = ConfigNumbers.Long(json["hidden_size"]), inner = ConfigNumbers.Long(json["intermediate_size"]);
        long heads = ConfigNumbers.Long(json["num_attention_heads"]), kvHeads = ConfigNumbers.OptionalLong(json["num_key_value_heads"]) ?? heads;
        long headDim = ConfigNumbers.OptionalLong(json["head_dim"]) ?? width / heads;
        bool attentionBias = type == "llama" && (json["attention_bias"]?.GetValue<bool>() ?? false);
        bool qkvBias = attentionBias || type == "qwen2", mlpBias = type == "llama" && (json["mlp_bias"]?.GetValue<bool>() ?? false);
        var w = new Weights(seed, shapesOnly);
        w.Matrix($"{prefix}embed_tokens.weight", vocabulary, width);
        for (int i = 0; i < ConfigNumbers.Long(json["num_hidden_layers"]); i++)
        {
            string p = $"{prefix}layers.{i}.";
            w.Norm($"{p}input_layernorm", width, bias: false);
            w.Linear($"{p}self_attn.q_proj", heads * headDim, width, qkvBias);
            w.Linear($"{p}self_attn.k_proj", kvHeads * headDim, width, qkvBias);
            w.Linear($"{p}self_attn.v_proj", kvHeads * headDim, width, qkvBias);
            w.Linear($"{p}self_attn.o_proj", width, heads * headDim, attentionBias);
            w.Norm($"{p}post_attention_layernorm", width, bias: false);
            w.Linear($"{p}mlp.gate_proj", inner, width, mlpBias);
            w.Linear($"{p}mlp.up_proj", inner, width, mlpBias);
            w.Linear($"{p}mlp.down_proj", width, inner, mlpBias);
        }
        w.Norm($"{prefix}norm", width, bias: false);
        if (untied) w.Matrix("lm_head.weight", vocabulary, width);
        return new TinyCheckpoint { Json = json, Tensors = w.Tensors };
    }

    /// <summary>An OPT checkpoint (pre-LayerNorm, biases, position table with 2 extra rows).</summary>
    public static TinyCheckpoint Opt(JsonObject extra, string prefix, bool shapesOnly = false, int seed = 3)
    {
        var json = Merge(new JsonObject
        {
            ["model_type"] = "opt", ["vocab_size"] = Vocabulary, ["hidden_size"] = 16, ["ffn_dim"] = 32, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["max_position_embeddings"] = 12, ["activation_function"] = "relu",
            ["do_layer_norm_before"] = true, ["word_embed_proj_dim"] = 16, ["enable_bias"] = true, ["torch_dtype"] = "float16",
        }, extra);
        long vocabulary = ConfigNumbers.Long(json["vocab_size"]), width = ConfigNumbers.Long(json["hidden_size"]), ffn = ConfigNumbers.Long(json["ffn_dim"]);
        var w = new Weights(seed, shapesOnly);
        w.Matrix($"{prefix}embed_tokens.weight", vocabulary, width);
        w.Matrix($"{prefix}embed_positions.weight", ConfigNumbers.Long(json["max_position_embeddings"]) + 2, width);
        for (int i = 0; i < ConfigNumbers.Long(json["num_hidden_layers"]); i++)
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

    /// <summary>
    /// Random weights large enough that attention is far from uniform and every term matters; or, with
    /// <paramref name="shapesOnly"/>, tensors on the meta device (a shape and no data) for full-size configs.
    /// </summary>
    sealed class Weights(int seed, bool shapesOnly)
    {
        readonly Generator _generator = new((ulong)seed);

        public Dictionary<string, Tensor> Tensors { get; } = [];

        Tensor Random(long[] shape, double scale, double shift = 0) =>
            shapesOnly ? empty(shape, device: META) : randn(shape, generator: _generator).mul(scale).add(shift);

        public Weights Matrix(string name, long rows, long columns)
        {
            Tensors[name] = Random([rows, columns], 0.4);
            return this;
        }

        public Weights Vector(string name, long size)
        {
            Tensors[name] = Random([size], 0.2);
            return this;
        }

        public void Buffer(string name, params long[] shape) => Tensors[name] = shapesOnly ? empty(shape, device: META) : ones(shape).tril();

        public void Linear(string name, long outputs, long inputs, bool bias)
        {
            Matrix($"{name}.weight", outputs, inputs);
            if (bias) Vector($"{name}.bias", outputs);
        }

        public void Norm(string name, long width, bool bias)
        {
            Tensors[$"{name}.weight"] = Random([width], 0.2, shift: 1);
            if (bias) Vector($"{name}.bias", width);
        }
    }
}
