namespace PruneSharp.Llm.Models;

/// <summary>
/// OPT (Zhang et al. 2022; transformers' <c>OPTConfig</c>): learned positions offset by 2, pre-LayerNorm blocks with
/// separate q, k, v projections, a ReLU MLP. The post-LayerNorm variant (<c>do_layer_norm_before: false</c>, only
/// opt-350m) and the embedding projections (<c>word_embed_proj_dim</c> ≠ hidden size, also opt-350m) are refused.
/// </summary>
public sealed record OptConfig : DecoderConfig
{
    /// <summary>Biases on every projection (<c>enable_bias</c>, default true).</summary>
    public required bool Bias { get; init; }

    /// <summary>LayerNorms have a weight and bias (<c>layer_norm_elementwise_affine</c>, default true).</summary>
    public required bool LayerNormAffine { get; init; }

    /// <summary>A LayerNorm after the last layer (absent only when <c>_remove_final_layer_norm</c> is true).</summary>
    public required bool FinalLayerNorm { get; init; }

    /// <summary>OPT's LayerNorm epsilon: transformers builds them with PyTorch's default, 1e-5, not from the config.</summary>
    public const double LayerNormEpsilon = 1e-5;

    /// <summary>Rows of the position table before position 0 (OPT's padding-index legacy): position p reads row p + 2.</summary>
    public const long PositionOffset = 2;

    internal static OptConfig Read(ConfigJson config)
    {
        var (vocabulary, dtype) = Common(config);
        long width = config.PositiveInteger("hidden_size");
        int heads = Count(config, "num_attention_heads");
        if (!config.Flag("do_layer_norm_before", true))
            throw config.Error("do_layer_norm_before", "false (post-LayerNorm OPT, opt-350m) is not supported");
        if (config.OptionalPositiveInteger("word_embed_proj_dim") is { } projected && projected != width)
            throw config.Error("word_embed_proj_dim", $"{projected} differs from hidden_size {width} (project_in/project_out, opt-350m) and is not supported");
        return new OptConfig
        {
            ModelType = "opt",
            VocabularySize = vocabulary,
            HiddenSize = width,
            LayerCount = Count(config, "num_hidden_layers"),
            HeadCount = heads,
            KeyValueHeadCount = heads,
            HeadDim = HeadWidth(config, width, heads, "hidden_size", "num_attention_heads"),
            IntermediateSize = config.PositiveInteger("ffn_dim"),
            Activation = config.Text("activation_function", "relu"),
            TiedEmbeddings = config.Flag("tie_word_embeddings", true),
            MaxPositions = config.PositiveInteger("max_position_embeddings"),
            StoredDType = dtype,
            Bias = config.Flag("enable_bias", true),
            LayerNormAffine = config.Flag("layer_norm_elementwise_affine", true),
            FinalLayerNorm = !config.Flag("_remove_final_layer_norm", false),
        };
    }
}
