using System.Text.Json.Nodes;
using PruneSharp.Llm.Checkpoints;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Checkpoints;

/// <summary>Small checkpoint folders written by hand: a config, side files, and weights in one file or two shards.</summary>
static class TestCheckpoints
{
    /// <summary>The tensors of the test model: name, values (seeded), stored dtype.</summary>
    public static List<(string Name, Tensor Values, SafetensorsDType DType)> Tensors()
    {
        var generator = new Generator(seed: 3);
        return
        [
            ("model.embed_tokens.weight", randn(11, 4, generator: generator), SafetensorsDType.BF16),
            ("model.layers.0.mlp.down_proj.weight", randn(4, 6, generator: generator), SafetensorsDType.BF16),
            ("model.layers.0.input_layernorm.weight", randn(4, generator: generator), SafetensorsDType.F32),
            ("model.layers.1.mlp.down_proj.weight", randn(4, 6, generator: generator), SafetensorsDType.BF16),
            ("lm_head.weight", randn(11, 4, generator: generator), SafetensorsDType.F16),
        ];
    }

    /// <summary>Writes config.json, generation_config.json, tokenizer.json and the weights; sharded puts layer 1 and the head in a second shard.</summary>
    public static void Write(string folder, bool sharded)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type": "llama", "hidden_size": 4, "torch_dtype": "bfloat16"}""");
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), "{\n  \"bos_token_id\": 1\n}\n");
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), """{"version": "1.0", "model": {"type": "BPE"}}""");
        var tensors = Tensors();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (!sharded)
            SafetensorsWriter.Write(Path.Combine(folder, HfCheckpoint.SingleFile), tensors, metadata);
        else
        {
            var first = tensors.Where(t => !IsSecond(t.Name)).ToList();
            var second = tensors.Where(t => IsSecond(t.Name)).ToList();
            SafetensorsWriter.Write(Path.Combine(folder, "model-00001-of-00002.safetensors"), first, metadata);
            SafetensorsWriter.Write(Path.Combine(folder, "model-00002-of-00002.safetensors"), second, metadata);
            var map = new JsonObject();
            foreach (var t in tensors) map[t.Name] = IsSecond(t.Name) ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
            long total = tensors.Sum(t => t.Values.NumberOfElements * t.DType.ElementSize());
            WriteIndex(folder, new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = map });
        }
        foreach (var t in tensors) t.Values.Dispose();
    }

    public static void WriteIndex(string folder, JsonNode index) =>
        File.WriteAllText(Path.Combine(folder, HfCheckpoint.IndexFile), index.ToJsonString(new() { WriteIndented = true }) + "\n");

    static bool IsSecond(string name) => name.StartsWith("model.layers.1.") || name == "lm_head.weight";
}
