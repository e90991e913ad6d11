using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Models;

/// <summary>
/// An independent reference forward pass in float64, written from the papers and the conventions of transformers'
/// modeling files: one sequence at a time, attention head by head with explicit matrix products, rotary embedding
/// pair by pair, grouped-query attention by the explicit index k = h / g, GPT-2's Conv1D as x·W with W stored [in, out].
/// </summary>
static class NaiveDecoder
{
    /// <summary>Logits [B, T, V] (float64) of <paramref name="ids"/> [B, T].</summary>
    public static Tensor Logits(TinyCheckpoint checkpoint, Tensor ids)
    {
        var json = checkpoint.Json;
        var t = checkpoint.Tensors.ToDictionary(p => p.Key, p => p.Value.to(ScalarType.Float64));
        string type = json["model_type"]!.GetValue<string>();
        var rows = new List<Tensor>();
        for (long b = 0; b < ids.shape[0]; b++)
            rows.Add(type switch
            {
                "gpt2" => Gpt2(json, t, ids[b]),
                "opt" => Opt(json, t, ids[b]),
                _ => Llama(json, t, ids[b], type),
            });
        return stack(rows);
    }

    static Tensor Gpt2(JsonObject json, Dictionary<string, Tensor> t, Tensor ids)
    {
        string p = t.ContainsKey("transformer.wte.weight") ? "transformer." : "";
        long heads = ConfigNumbers.Long(json["n_head"]), length = ids.shape[0];
        double eps = ConfigNumbers.Number(json["layer_norm_epsilon"]);
        bool byLayer = json["scale_attn_by_inverse_layer_idx"]?.GetValue<bool>() ?? false;
        string activation = json["activation_function"]!.GetValue<string>();
        var h = t[$"{p}wte.weight"].index_select(0, ids) + t[$"{p}wpe.weight"][..(int)length];
        for (int i = 0; i < ConfigNumbers.Long(json["n_layer"]); i++)
        {
            string l = $"{p}h.{i}.";
            var x = LayerNorm(h, t[$"{l}ln_1.weight"], t[$"{l}ln_1.bias"], eps);
            var qkv = x.matmul(t[$"{l}attn.c_attn.weight"]) + t[$"{l}attn.c_attn.bias"];   // Conv1D: x·W, W [in, out]
            long d = qkv.shape[1] / 3, headDim = d / heads;
            var q = qkv[.., ..(int)d];
            var k = qkv[.., (int)d..(int)(2 * d)];
            var v = qkv[.., (int)(2 * d)..];
            double scale = 1 / Math.Sqrt(headDim) / (byLayer ? i + 1 : 1);
            var context = Attention(q, k, v, heads, heads, headDim, scale, window: null, rotaryTheta: null);
            h = h + context.matmul(t[$"{l}attn.c_proj.weight"]) + t[$"{l}attn.c_proj.bias"];
            x = LayerNorm(h, t[$"{l}ln_2.weight"], t[$"{l}ln_2.bias"], eps);
            var inner = Activate(activation, x.matmul(t[$"{l}mlp.c_fc.weight"]) + t[$"{l}mlp.c_fc.bias"]);
            h = h + inner.matmul(t[$"{l}mlp.c_proj.weight"]) + t[$"{l}mlp.c_proj.bias"];
        }
        h = LayerNorm(h, t[$"{p}ln_f.weight"], t[$"{p}ln_f.bias"], eps);
        var head = (json["tie_word_embeddings"]?.GetValue<bool>() ?? true) || !t.ContainsKey("lm_head.weight") ? t[$"{p}wte.weight"] : t["lm_head.weight"];
        return h.matmul(head.t());
    }

    static Tensor Llama(JsonObject json, Dictionary<string, Tensor> t, Tensor ids, string type)
    {
        string p = t.ContainsKey("model.embed_tokens.weight") ? "model." : "";
        long heads = ConfigNumbers.Long(json["num_attention_heads"]);
        long kvHeads = ConfigNumbers.OptionalLong(json["num_key_value_heads"]) ?? heads;
        long width = ConfigNumbers.Long(json["hidden_size"]);
        long headDim = ConfigNumbers.OptionalLong(json["head_dim"]) ?? width / heads;
        double eps = ConfigNumbers.Number(json["rms_norm_eps"]);
        double theta = ConfigNumbers.OptionalNumber(json["rope_parameters"]?["rope_theta"]) ?? ConfigNumbers.OptionalNumber(json["rope_theta"]) ?? 10000;
        long? window = type == "mistral" ? ConfigNumbers.OptionalLong(json["sliding_window"]) : null;
        Tensor? Bias(string name) => t.TryGetValue(name, out var b) ? b : null;
        Tensor Linear(Tensor x, string name)
        {
            var y = x.matmul(t[$"{name}.weight"].t());
            return Bias($"{name}.bias") is { } b ? y + b : y;
        }
        var h = t[$"{p}embed_tokens.weight"].index_select(0, ids);
        for (int i = 0; i < ConfigNumbers.Long(json["num_hidden_layers"]); i++)
        {
            string l = $"{p}layers.{i}.";
            var x = RmsNorm(h, t[$"{l}input_layernorm.weight"], eps);
            var context = Attention(Linear(x, $"{l}self_attn.q_proj"), Linear(x, $"{l}self_attn.k_proj"), Linear(x, $"{l}self_attn.v_proj"),
                heads, kvHeads, headDim, 1 / Math.Sqrt(headDim), window, theta);
            h = h + Linear(context, $"{l}self_attn.o_proj");
            x = RmsNorm(h, t[$"{l}post_attention_layernorm.weight"], eps);
            h = h + Linear(Activate("silu", Linear(x, $"{l}mlp.gate_proj")) * Linear(x, $"{l}mlp.up_proj"), $"{l}mlp.down_proj");
        }
        h = RmsNorm(h, t[$"{p}norm.weight"], eps);
        bool tied = json["tie_word_embeddings"]?.GetValue<bool>() ?? false;
        var head = tied || !t.ContainsKey("lm_head.weight") ? t[$"{p}embed_tokens.weight"] : t["lm_head.weight"];
        return h.matmul(head.t());
    }

    static Tensor Opt(JsonObject json, Dictionary<string, Tensor> t, Tensor ids)
    {
        string p = t.ContainsKey("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
        long heads = ConfigNumbers.Long(json["num_attention_heads"]), width = ConfigNumbers.Long(json["hidden_size"]), length = ids.shape[0];
        long headDim = width / heads;
        Tensor Linear(Tensor x, string name) => x.matmul(t[$"{name}.weight"].t()) + t[$"{name}.bias"];
        // Positions cumsum(mask) − 1 = 0..T−1, looked up at offset 2.
        var h = t[$"{p}embed_tokens.weight"].index_select(0, ids) + t[$"{p}embed_positions.weight"][2..(int)(length + 2)];
        for (int i = 0; i < ConfigNumbers.Long(json["num_hidden_layers"]); i++)
        {
            string l = $"{p}layers.{i}.";
            var x = LayerNorm(h, t[$"{l}self_attn_layer_norm.weight"], t[$"{l}self_attn_layer_norm.bias"], 1e-5);
            var q = Linear(x, $"{l}self_attn.q_proj") * Math.Pow(headDim, -0.5);
            var context = Attention(q, Linear(x, $"{l}self_attn.k_proj"), Linear(x, $"{l}self_attn.v_proj"), heads, heads, headDim, 1, null, null);
            h = h + Linear(context, $"{l}self_attn.out_proj");
            x = LayerNorm(h, t[$"{l}final_layer_norm.weight"], t[$"{l}final_layer_norm.bias"], 1e-5);
            h = h + Linear(Activate("relu", Linear(x, $"{l}fc1")), $"{l}fc2");
        }
        h = LayerNorm(h, t[$"{p}final_layer_norm.weight"], t[$"{p}final_layer_norm.bias"], 1e-5);
        return h.matmul(t[$"{p}embed_tokens.weight"].t());
    }

    /// <summary>
    /// Causal attention of one sequence, q [T, H·d], k and v [T, KV·d] → [T, H·d]: query head h reads key/value head
    /// h / (H / KV); with rotary θ, q and k are rotated per pair first; with a window, query t sees keys s with t − s &lt; window.
    /// </summary>
    static Tensor Attention(Tensor q, Tensor k, Tensor v, long heads, long kvHeads, long headDim, double scale, long? window, double? rotaryTheta)
    {
        long length = q.shape[0], group = heads / kvHeads;
        var outputs = new List<Tensor>();
        for (long h = 0; h < heads; h++)
        {
            long kv = h / group;
            var qh = q[.., (int)(h * headDim)..(int)((h + 1) * headDim)];
            var kh = k[.., (int)(kv * headDim)..(int)((kv + 1) * headDim)];
            var vh = v[.., (int)(kv * headDim)..(int)((kv + 1) * headDim)];
            if (rotaryTheta is { } theta) (qh, kh) = (Rotate(qh, theta), Rotate(kh, theta));
            var scores = qh.matmul(kh.t()) * scale;
            var weights = zeros(length, length, dtype: ScalarType.Float64);
            for (long row = 0; row < length; row++)
            {
                var allowed = Enumerable.Range(0, (int)row + 1).Where(s => window is not { } w || row - s < w).ToArray();
                var logits = scores[row].index_select(0, tensor(allowed.Select(s => (long)s).ToArray()));
                var e = (logits - logits.max()).exp();
                weights[row].index_copy_(0, tensor(allowed.Select(s => (long)s).ToArray()), e / e.sum());
            }
            outputs.Add(weights.matmul(vh));
        }
        return cat(outputs, dim: 1);
    }

    /// <summary>Rotary embedding (Su et al.) in the half-split layout: pair (i, i + d/2) of position t turns by t·θ^(−2i/d).</summary>
    static Tensor Rotate(Tensor x, double theta)
    {
        long length = x.shape[0], d = x.shape[1], half = d / 2;
        var y = x.clone();
        for (long t = 0; t < length; t++)
            for (long i = 0; i < half; i++)
            {
                double angle = t * Math.Pow(theta, -2.0 * i / d);
                double a = x[t, i].item<double>(), b = x[t, i + half].item<double>();
                y[t, i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                y[t, i + half] = b * Math.Cos(angle) + a * Math.Sin(angle);
            }
        return y;
    }

    static Tensor LayerNorm(Tensor x, Tensor weight, Tensor bias, double eps)
    {
        var mean = x.mean([-1], keepdim: true);
        var variance = (x - mean).pow(2).mean([-1], keepdim: true);
        return (x - mean) / (variance + eps).sqrt() * weight + bias;
    }

    static Tensor RmsNorm(Tensor x, Tensor weight, double eps) => x / (x.pow(2).mean([-1], keepdim: true) + eps).sqrt() * weight;

    static Tensor Activate(string name, Tensor x) => name switch
    {
        "gelu_new" => 0.5 * x * (1 + (Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh()),
        "gelu" => 0.5 * x * (1 + (x / Math.Sqrt(2)).erf()),
        "silu" => x / (1 + (-x).exp()),
        "relu" => x.clamp_min(0),
        _ => throw new ArgumentException(name),
    };
}
