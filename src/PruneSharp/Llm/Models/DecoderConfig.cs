using System.Text.Json;
using System.Text.Json.Nodes;

namespace PruneSharp.Llm.Models;

/// <summary>
/// The sizes and conventions of a decoder-only language model, read from a Hugging Face <c>config.json</c>.
/// One record per family (<see cref="Gpt2Config"/>, <see cref="LlamaConfig"/> for Llama, Mistral and Qwen2,
/// <see cref="OptConfig"/>); keys are read as real checkpoints write them, old and new, and anything that would change
/// the numbers but is not implemented is refused by name rather than ignored.
/// </summary>
public abstract record DecoderConfig
{
    /// <summary>The <c>model_type</c> key: <c>gpt2</c>, <c>llama</c>, <c>mistral</c>, <c>qwen2</c> or <c>opt</c>.</summary>
    public required string ModelType { get; init; }

    /// <summary>Token ids the embedding table covers (<c>vocab_size</c>).</summary>
    public required long VocabularySize { get; init; }

    /// <summary>Width of the residual stream (<c>n_embd</c>, <c>hidden_size</c>).</summary>
    public required long HiddenSize { get; init; }

    /// <summary>Decoder layers (<c>n_layer</c>, <c>num_hidden_layers</c>).</summary>
    public required int LayerCount { get; init; }

    /// <summary>Query heads per layer (<c>n_head</c>, <c>num_attention_heads</c>).</summary>
    public required int HeadCount { get; init; }

    /// <summary>Key/value heads (<c>num_key_value_heads</c>; equal to <see cref="HeadCount"/> without grouped-query attention).</summary>
    public required int KeyValueHeadCount { get; init; }

    /// <summary>Width of one head (<c>head_dim</c>, otherwise hidden size / heads).</summary>
    public required long HeadDim { get; init; }

    /// <summary>Width of the MLP's hidden layer (<c>n_inner</c>, <c>intermediate_size</c>, <c>ffn_dim</c>).</summary>
    public required long IntermediateSize { get; init; }

    /// <summary>The MLP's activation as transformers names it (<c>gelu_new</c>, <c>silu</c>, <c>relu</c>).</summary>
    public required string Activation { get; init; }

    /// <summary>Whether the output head reuses the token embedding table (<c>tie_word_embeddings</c>).</summary>
    public required bool TiedEmbeddings { get; init; }

    /// <summary>Longest sequence the model was built for (<c>n_positions</c>, <c>max_position_embeddings</c>); a hard limit only for learned positions.</summary>
    public required long MaxPositions { get; init; }

    /// <summary>The checkpoint's stored dtype (<c>torch_dtype</c>, or <c>dtype</c> in newer configs), if given; computation is float32 regardless.</summary>
    public string? StoredDType { get; init; }

    /// <summary>The architectures <see cref="Parse(JsonObject, string)"/> accepts.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["gpt2", "llama", "mistral", "qwen2", "opt"];

    /// <summary>Parses a <c>config.json</c> object into the record of its family.</summary>
    /// <param name="json">The parsed file.</param>
    /// <param name="source">Where it came from, for error messages (the file's path).</param>
    /// <exception cref="ModelConfigException">A key is missing or malformed, or names an architecture or option that is not supported.</exception>
    public static DecoderConfig Parse(JsonObject json, string source = "config.json")
    {
        var config = new ConfigJson(json, source);
        string modelType = config.OptionalText("model_type") ?? throw config.Error("model_type", "missing");
        DecoderConfig parsed = modelType switch
        {
            "gpt2" => Gpt2Config.Read(config),
            "llama" or "mistral" or "qwen2" => LlamaConfig.Read(config, modelType),
            "opt" => OptConfig.Read(config),
            _ => throw config.Error("model_type", $"unsupported architecture '{modelType}' (supported: {string.Join(", ", SupportedModelTypes)})"),
        };
        if (!Activations.IsKnown(parsed.Activation))
            throw config.Error(parsed is LlamaConfig ? "hidden_act" : "activation_function",
                $"unsupported activation '{parsed.Activation}' (supported: {string.Join(", ", Activations.Names)})");
        return parsed;
    }

    /// <summary>Parses a <c>config.json</c> element (see <see cref="Parse(JsonObject, string)"/>).</summary>
    /// <exception cref="ModelConfigException">The element is not an object, or as for <see cref="Parse(JsonObject, string)"/>.</exception>
    public static DecoderConfig Parse(JsonElement json, string source = "config.json") =>
        JsonNode.Parse(json.GetRawText()) is JsonObject o ? Parse(o, source) : throw new ModelConfigException(source, "(root)", "expected a JSON object");

    /// <summary>The common reads: vocabulary and the stored dtype.</summary>
    private protected static (long Vocabulary, string? DType) Common(ConfigJson config) =>
        (config.PositiveInteger("vocab_size"), config.OptionalText("dtype") ?? config.OptionalText("torch_dtype"));

    /// <summary>Hidden size / heads, refused when it does not divide.</summary>
    private protected static long HeadWidth(ConfigJson config, long hidden, long heads, string hiddenKey, string headsKey) =>
        hidden % heads == 0 ? hidden / heads : throw config.Error(headsKey, $"{hiddenKey} {hidden} is not a multiple of {headsKey} {heads}");

    private protected static int Count(ConfigJson config, string key) =>
        config.PositiveInteger(key) is var n && n <= int.MaxValue ? (int)n : throw config.Error(key, $"too large: {n}");
}
