using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PruneSharp.Llm.Checkpoints;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// Writes a random-weight Llama-architecture checkpoint in the Hugging Face layout (config.json, one safetensors shard
/// per decoder layer plus one for the embeddings and head, model.safetensors.index.json, a tokenizer.json copied from
/// a given file), for memory and time measurements of layer-by-layer pruning on a model larger than the machine wants
/// to hold. Default shape: hidden 2048, 20 layers, 32 heads, 8 key/value heads, MLP 5632, vocabulary 32000 — about
/// 1.03 billion parameters (4.1 GB in F32).
/// </summary>
sealed class LlmSynthetic : IBenchmark
{
    public string Name => "llm-synthetic";
    public string Description => "write a random Llama checkpoint (OUT TOKENIZER_JSON [F32|BF16] [LAYERS] [HIDDEN] [MLP] [VOCAB])";

    public int Run(string[] args)
    {
        if (args.Length < 2) { Console.Error.WriteLine($"usage: {Name} OUT TOKENIZER_JSON [F32|BF16] [LAYERS=20] [HIDDEN=2048] [MLP=5632] [VOCAB=32000]"); return 2; }
        string output = args[0];
        var dtype = args.Length > 2 ? Enum.Parse<SafetensorsDType>(args[2], ignoreCase: true) : SafetensorsDType.F32;
        int layers = Arg(args, 3, 20), hidden = Arg(args, 4, 2048), mlp = Arg(args, 5, 5632), vocabulary = Arg(args, 6, 32000);
        int heads = hidden / 64, kvHeads = Math.Max(1, heads / 4), kv = kvHeads * 64;
        Directory.CreateDirectory(output);
        File.Copy(args[1], Path.Combine(output, "tokenizer.json"), overwrite: true);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama", ["hidden_size"] = hidden, ["intermediate_size"] = mlp,
            ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads, ["num_key_value_heads"] = kvHeads, ["head_dim"] = 64,
            ["hidden_act"] = "silu", ["max_position_embeddings"] = 2048, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = false, ["vocab_size"] = vocabulary, ["attention_bias"] = false, ["mlp_bias"] = false,
            ["dtype"] = dtype == SafetensorsDType.BF16 ? "bfloat16" : "float32",
        };
        File.WriteAllText(Path.Combine(output, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        manual_seed(0);
        var weightMap = new JsonObject();
        long total = 0, parameters = 0;
        int shards = layers + 1;
        void Shard(int index, IEnumerable<(string Name, long[] Shape, bool Norm)> tensors)
        {
            string file = $"model-{index + 1:00000}-of-{shards:00000}.safetensors";
            var made = tensors.Select(t => (t.Name, t.Norm ? ones(t.Shape) : randn(t.Shape).mul_(0.02), dtype)).ToList();
            SafetensorsWriter.Write(Path.Combine(output, file), made);
            foreach (var (name, tensor, _) in made)
            {
                weightMap[name] = file;
                parameters += tensor.numel();
                total += tensor.numel() * dtype.ElementSize();
                tensor.Dispose();
            }
        }
        Shard(0, [("model.embed_tokens.weight", [vocabulary, hidden], false), ("model.norm.weight", [hidden], true), ("lm_head.weight", [vocabulary, hidden], false)]);
        for (int i = 0; i < layers; i++)
        {
            string p = $"model.layers.{i}.";
            Shard(i + 1, [
                (p + "input_layernorm.weight", [hidden], true), (p + "post_attention_layernorm.weight", [hidden], true),
                (p + "self_attn.q_proj.weight", [hidden, hidden], false), (p + "self_attn.k_proj.weight", [kv, hidden], false),
                (p + "self_attn.v_proj.weight", [kv, hidden], false), (p + "self_attn.o_proj.weight", [hidden, hidden], false),
                (p + "mlp.gate_proj.weight", [mlp, hidden], false), (p + "mlp.up_proj.weight", [mlp, hidden], false),
                (p + "mlp.down_proj.weight", [hidden, mlp], false)]);
            Console.Error.Write($"\rwrote layer {i + 1}/{layers}");
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
        File.WriteAllText(Path.Combine(output, HfCheckpoint.IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.Error.WriteLine();
        Console.WriteLine($"{output}: {parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters, {total} bytes of {dtype} weights in {shards} shards");
        return 0;
    }

    static int Arg(string[] args, int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
}
