namespace PruneSharp.Llm.Models;

/// <summary>
/// Llama (Touvron et al. 2023) and the families that share its block: Mistral (sliding-window attention, no biases)
/// and Qwen2 (biases on q, k and v only). RMSNorm before attention and MLP, rotary positions, grouped-query
/// attention, a gated MLP <c>down(act(gate(x)) · up(x))</c>.
/// </summary>
public sealed record LlamaConfig : DecoderConfig
{
    /// <summary>RMSNorm epsilon (<c>rms_norm_eps</c>, default 1e-6).</summary>
    public required double RmsNormEpsilon { get; init; }

    /// <summary>Rotary base θ (<c>rope_theta</c>, or <c>rope_parameters.rope_theta</c> in newer configs; default 10000).</summary>
    public required double RopeTheta { get; init; }

    /// <summary>Biases on the q, k and v projections (Llama: <c>attention_bias</c>; Qwen2: always; Mistral: never).</summary>
    public required bool QkvBias { get; init; }

    /// <summary>Bias on the output projection (Llama: <c>attention_bias</c>; Qwen2 and Mistral: never).</summary>
    public required bool OutputBias { get; init; }

    /// <summary>Biases on the MLP projections (Llama: <c>mlp_bias</c>; otherwise never).</summary>
    public required bool MlpBias { get; init; }

    /// <summary>
    /// Per layer, the attention window in tokens (a query at position q sees keys k with q − window &lt; k ≤ q), or null
    /// for full causal attention. Mistral: <c>sliding_window</c> on every layer; Qwen2: <c>sliding_window</c> when
    /// <c>use_sliding_window</c>, on the layers <c>layer_types</c> marks <c>sliding_attention</c> (by default those from
    /// <c>max_window_layers</c> on).
    /// </summary>
    public required IReadOnlyList<long?> AttentionWindows { get; init; }

    internal static LlamaConfig Read(ConfigJson config, string modelType)
    {
        var (vocabulary, dtype) = Common(config);
        long width = config.PositiveInteger("hidden_size");
        int heads = Count(config, "num_attention_heads");
        int layers = Count(config, "num_hidden_layers");
        int kvHeads = config.Has("num_key_value_heads") ? Count(config, "num_key_value_heads") : heads;
        if (heads % kvHeads != 0)
            throw config.Error("num_key_value_heads", $"{kvHeads} does not divide num_attention_heads {heads}");
        long headDim = config.OptionalPositiveInteger("head_dim") ?? HeadWidth(config, width, heads, "hidden_size", "num_attention_heads");
        if (headDim % 2 != 0) throw config.Error("head_dim", $"rotary embeddings need an even head width, got {headDim}");
        bool attentionBias = config.Flag("attention_bias", false);
        return new LlamaConfig
        {
            ModelType = modelType,
            VocabularySize = vocabulary,
            HiddenSize = width,
            LayerCount = layers,
            HeadCount = heads,
            KeyValueHeadCount = kvHeads,
            HeadDim = headDim,
            IntermediateSize = config.PositiveInteger("intermediate_size"),
            Activation = config.Text("hidden_act", "silu"),
            TiedEmbeddings = config.Flag("tie_word_embeddings", false),
            MaxPositions = config.OptionalPositiveInteger("max_position_embeddings") ?? DefaultMaxPositions(modelType),
            StoredDType = dtype,
            RmsNormEpsilon = config.Number("rms_norm_eps", 1e-6),
            RopeTheta = RotaryBase(config),
            QkvBias = modelType switch { "llama" => attentionBias, "qwen2" => true, _ => false },
            OutputBias = modelType == "llama" && attentionBias,
            MlpBias = modelType == "llama" && config.Flag("mlp_bias", false),
            AttentionWindows = Windows(config, modelType, layers),
        };
    }

    /// <summary>The config classes' defaults, for configs that leave the key out.</summary>
    static long DefaultMaxPositions(string modelType) => modelType switch { "llama" => 2048, "mistral" => 4096 * 32, _ => 32768 };

    /// <summary>
    /// θ of the default rotary embedding. Scaled variants (linear, dynamic, yarn, llama3, longrope, ...) change the
    /// frequencies and are refused by key, as is a partial rotary factor.
    /// </summary>
    static double RotaryBase(ConfigJson config)
    {
        double theta = config.Number("rope_theta", 10000);
        foreach (string key in new[] { "rope_scaling", "rope_parameters" })
        {
            if (config.OptionalObject(key) is not { } rope) continue;
            string type = rope.OptionalText("rope_type") ?? rope.OptionalText("type") ?? "default";
            if (type != "default")
                throw config.Error(key, $"rope type '{type}' is not supported (only the default rotary embedding); refusing rather than ignoring it");
            theta = rope.OptionalNumber("rope_theta") ?? theta;
            if (rope.OptionalNumber("partial_rotary_factor") is { } partial && partial != 1)
                throw rope.Error("partial_rotary_factor", $"{partial} is not supported (rotary embedding over the whole head only)");
        }
        if (config.OptionalNumber("partial_rotary_factor") is { } factor && factor != 1)
            throw config.Error("partial_rotary_factor", $"{factor} is not supported (rotary embedding over the whole head only)");
        if (!(theta > 0)) throw config.Error("rope_theta", $"must be positive, got {theta}");
        return theta;
    }

    static IReadOnlyList<long?> Windows(ConfigJson config, string modelType, int layers)
    {
        long? window = modelType switch
        {
            "mistral" => config.OptionalPositiveInteger("sliding_window"),
            "qwen2" when config.Flag("use_sliding_window", false) => config.OptionalPositiveInteger("sliding_window"),
            _ => null,
        };
        if (window is null) return new long?[layers];
        if (modelType == "mistral") return Enumerable.Repeat(window, layers).ToArray();
        if (config.OptionalTextList("layer_types") is { } types)
        {
            if (types.Count != layers) throw config.Error("layer_types", $"lists {types.Count} layers, num_hidden_layers is {layers}");
            return types.Select(t => t switch
            {
                "sliding_attention" => window,
                "full_attention" => (long?)null,
                _ => throw config.Error("layer_types", $"unknown layer type '{t}' (expected sliding_attention or full_attention)"),
            }).ToArray();
        }
        long firstSliding = config.OptionalInteger("max_window_layers") ?? 28;
        return Enumerable.Range(0, layers).Select(i => i >= firstSliding ? window : null).ToArray();
    }
}
