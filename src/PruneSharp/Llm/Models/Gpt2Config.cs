namespace PruneSharp.Llm.Models;

/// <summary>
/// GPT-2 (Radford et al. 2019; transformers' <c>GPT2Config</c>): learned positions, pre-LayerNorm blocks, one fused
/// q|k|v projection, and Conv1D weights stored [in, out].
/// </summary>
public sealed record Gpt2Config : DecoderConfig
{
    /// <summary>LayerNorm epsilon (<c>layer_norm_epsilon</c>, default 1e-5).</summary>
    public required double LayerNormEpsilon { get; init; }

    /// <summary>Divide attention scores by √head_dim (<c>scale_attn_weights</c>, default true).</summary>
    public required bool ScaleAttentionWeights { get; init; }

    /// <summary>Also divide layer <c>i</c>'s scores by <c>i + 1</c> (<c>scale_attn_by_inverse_layer_idx</c>, default false).</summary>
    public required bool ScaleAttentionByInverseLayerIndex { get; init; }

    internal static Gpt2Config Read(ConfigJson config)
    {
        var (vocabulary, dtype) = Common(config);
        long width = config.PositiveInteger("n_embd");
        int heads = Count(config, "n_head");
        long headDim = HeadWidth(config, width, heads, "n_embd", "n_head");
        // reorder_and_upcast_attn only moves the scaling into an upcast matmul: in float32 it computes the same scores.
        config.Flag("reorder_and_upcast_attn", false);
        return new Gpt2Config
        {
            ModelType = "gpt2",
            VocabularySize = vocabulary,
            HiddenSize = width,
            LayerCount = Count(config, "n_layer"),
            HeadCount = heads,
            KeyValueHeadCount = heads,
            HeadDim = headDim,
            IntermediateSize = config.OptionalPositiveInteger("n_inner") ?? 4 * width,
            Activation = config.Text("activation_function", "gelu_new"),
            TiedEmbeddings = config.Flag("tie_word_embeddings", true),
            MaxPositions = config.PositiveInteger("n_positions"),
            StoredDType = dtype,
            LayerNormEpsilon = config.Number("layer_norm_epsilon", 1e-5),
            ScaleAttentionWeights = config.Flag("scale_attn_weights", true),
            ScaleAttentionByInverseLayerIndex = config.Flag("scale_attn_by_inverse_layer_idx", false),
        };
    }
}
