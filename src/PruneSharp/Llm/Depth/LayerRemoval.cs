using System.Text.Json.Nodes;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Llm.Models;

namespace PruneSharp.Llm.Depth;

/// <summary>
/// What taking whole decoder layers out of a checkpoint changes: the removed layers' tensors are dropped, every later
/// layer's tensors move down to close the gap (<c>model.layers.7.</c> becomes <c>model.layers.5.</c> when two earlier
/// layers go), and <c>config.json</c> states the new depth.
/// </summary>
public static class LayerRemoval
{
    /// <summary>Config keys holding the number of decoder layers (Llama, Mistral, Qwen2, OPT; GPT-2).</summary>
    static readonly string[] LayerCountKeys = ["num_hidden_layers", "n_layer"];

    /// <summary>
    /// Tells <paramref name="writer"/> to drop the tensors of <paramref name="removed"/> layers and renumber the rest.
    /// Each layer's tensors are found by <see cref="DecoderModel.LayerPrefix"/>, so every checkpoint tensor under the
    /// prefix moves with its layer, buffers included.
    /// </summary>
    /// <exception cref="ArgumentException">A removed index is not a layer, or every layer would go.</exception>
    public static void Plan(CheckpointWriter writer, HfCheckpoint checkpoint, DecoderModel model, IReadOnlyCollection<int> removed)
    {
        Check(model.LayerCount, removed);
        var prefixes = Enumerable.Range(0, model.LayerCount).Select(model.LayerPrefix).ToArray();
        int kept = 0;
        for (int layer = 0; layer < model.LayerCount; layer++)
        {
            bool drop = removed.Contains(layer);
            string from = prefixes[layer], to = drop ? "" : prefixes[kept];
            foreach (string name in checkpoint.Names.Where(n => n.StartsWith(from, StringComparison.Ordinal)))
            {
                if (drop) writer.Remove(name);
                else if (from != to) writer.Rename(name, to + name[from.Length..]);
            }
            if (!drop) kept++;
        }
        writer.SetConfig(Config(checkpoint.Config, model.LayerCount, removed));
    }

    /// <summary>
    /// <paramref name="config"/> with the layer count lowered and every top-level list whose key names layers and whose
    /// length is the old layer count (<c>layer_types</c>) filtered to the kept layers. Other fields are left alone.
    /// </summary>
    /// <exception cref="ArgumentException">A removed index is not a layer, or every layer would go.</exception>
    public static JsonObject Config(JsonObject config, int layerCount, IReadOnlyCollection<int> removed)
    {
        Check(layerCount, removed);
        var rewritten = (JsonObject)config.DeepClone();
        foreach (string key in LayerCountKeys)
            if (rewritten[key] is JsonValue value && value.TryGetValue(out int count) && count == layerCount)
                rewritten[key] = layerCount - removed.Count;
        foreach (var (key, node) in config)
            if (node is JsonArray list && list.Count == layerCount && key.Contains("layer", StringComparison.OrdinalIgnoreCase))
                rewritten[key] = new JsonArray(list.Where((_, i) => !removed.Contains(i)).Select(n => n?.DeepClone()).ToArray());
        return rewritten;
    }

    static void Check(int layerCount, IReadOnlyCollection<int> removed)
    {
        if (removed.Any(i => i < 0 || i >= layerCount))
            throw new ArgumentException($"layers to remove must lie in 0..{layerCount - 1}, got {string.Join(", ", removed)}", nameof(removed));
        if (removed.Distinct().Count() >= layerCount)
            throw new ArgumentException($"removing {removed.Distinct().Count()} of {layerCount} layers would leave none", nameof(removed));
    }
}
