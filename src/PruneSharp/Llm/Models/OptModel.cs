using PruneSharp.Llm.Decoding;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// OPT: h = embed_tokens[ids] + embed_positions[2..T+1] (positions cumsum(mask) − 1 = 0..T−1 without padding, read at
/// offset 2); per layer h += out_proj(attention(q·d^−½, k, v)) of self_attn_layer_norm(h), h += fc2(relu(fc1(
/// final_layer_norm(h)))); logits = lm_head(final_layer_norm(h)) with the decoder's final norm. Tensor names
/// <c>model.decoder.layers.0.self_attn.q_proj.weight</c> (or <c>decoder.</c>, as the original checkpoints write them).
/// </summary>
sealed class OptModel : DecoderModel
{
    readonly OptConfig _config;
    readonly string _prefix;

    public OptModel(OptConfig config, ITensorSource source) : base(config, source)
    {
        _config = config;
        _prefix = Prefix(source, "embed_tokens.weight", "model.decoder.", "decoder.");
        CheckTensors();
    }

    long D => _config.HiddenSize;
    long PositionRows => _config.MaxPositions + OptConfig.PositionOffset;

    private protected override Tensor TokenEmbedding => Resident($"{_prefix}embed_tokens.weight", _config.VocabularySize, D);

    private protected override IEnumerable<TensorSpec> ModelTensors()
    {
        yield return new($"{_prefix}embed_tokens.weight", [_config.VocabularySize, D]);
        yield return new($"{_prefix}embed_positions.weight", [PositionRows, D]);
        if (_config.FinalLayerNorm)
            foreach (var spec in NormTensors($"{_prefix}final_layer_norm")) yield return spec;
        if (!HeadTied) yield return new(LmHeadName, [_config.VocabularySize, D]);
    }

    IEnumerable<TensorSpec> NormTensors(string name) => _config.LayerNormAffine ? [new($"{name}.weight", [D]), new($"{name}.bias", [D])] : [];

    /// <summary>Each projection: (short name, [out, in]).</summary>
    IEnumerable<(string Name, long Out, long In)> Projections()
    {
        yield return ("self_attn.q_proj", D, D);
        yield return ("self_attn.k_proj", D, D);
        yield return ("self_attn.v_proj", D, D);
        yield return ("self_attn.out_proj", D, D);
        yield return ("fc1", _config.IntermediateSize, D);
        yield return ("fc2", D, _config.IntermediateSize);
    }

    private protected override IEnumerable<TensorSpec> LayerTensors(int index)
    {
        string p = $"{_prefix}layers.{index}.";
        foreach (var spec in NormTensors($"{p}self_attn_layer_norm").Concat(NormTensors($"{p}final_layer_norm"))) yield return spec;
        foreach (var (name, outputs, inputs) in Projections())
        {
            yield return new($"{p}{name}.weight", [outputs, inputs]);
            if (_config.Bias) yield return new($"{p}{name}.bias", [outputs]);
        }
    }

    private protected override Tensor EmbedTokens(Tensor ids, long start)
    {
        long length = ids.shape[1];
        if (start + length > _config.MaxPositions)
            throw new ArgumentException($"{start + length} tokens exceed OPT's learned positions (max_position_embeddings {_config.MaxPositions})", nameof(ids));
        var tokens = TokenEmbedding.index_select(0, ids.flatten()).view(ids.shape[0], length, D);
        var positions = Resident($"{_prefix}embed_positions.weight", PositionRows, D);
        return tokens.add(positions.narrow(0, start + OptConfig.PositionOffset, length));
    }

    private protected override Tensor FinalNorm(Tensor hidden) =>
        _config.FinalLayerNorm ? Norm(name => Resident(name, D), $"{_prefix}final_layer_norm").Apply(hidden) : hidden.alias();

    LayerNorm Norm(Func<string, Tensor> read, string name) =>
        _config.LayerNormAffine ? new(read($"{name}.weight"), read($"{name}.bias"), OptConfig.LayerNormEpsilon) : new(null, null, OptConfig.LayerNormEpsilon);

    private protected override DecoderLayer ReadLayer(int index) => new Layer(this, index);

    sealed class Layer : DecoderLayer
    {
        readonly OptConfig _config;
        readonly LayerNorm _attentionNorm, _mlpNorm;
        readonly LinearSite _q, _k, _v, _out, _fc1, _fc2;
        readonly Func<Tensor, Tensor> _activation;

        public Layer(OptModel model, int index) : base(index, model.D)
        {
            _config = model._config;
            string p = $"{model._prefix}layers.{index}.";
            _attentionNorm = model.Norm(name => Own(model.Read(name, model.D)), $"{p}self_attn_layer_norm");
            _mlpNorm = model.Norm(name => Own(model.Read(name, model.D)), $"{p}final_layer_norm");
            var sites = model.Projections().Select(s => new LinearSite(index, s.Name, $"{p}{s.Name}.weight",
                Own(model.Read($"{p}{s.Name}.weight", s.Out, s.In)), _config.Bias ? Own(model.Read($"{p}{s.Name}.bias", s.Out)) : null,
                storedTransposed: false)).ToArray();
            (_q, _k, _v, _out, _fc1, _fc2) = (sites[0], sites[1], sites[2], sites[3], sites[4], sites[5]);
            _activation = Activations.Get(_config.Activation);
            Linears = sites;
        }

        public override IReadOnlyList<LinearSite> Linears { get; }

        private protected override Tensor Block(Tensor hidden, Action<LinearSite, Tensor>? observe, LayerKeyValues? cache)
        {
            long heads = _config.HeadCount, headDim = _config.HeadDim;
            var x = _attentionNorm.Apply(hidden);
            // OPT scales q after its projection (and bias), then attends with scale 1.
            var q = SplitHeads(Linear(_q, x, observe).mul(1 / Math.Sqrt(headDim)), heads, headDim);
            var (k, v) = Remember(SplitHeads(Linear(_k, x, observe), heads, headDim), SplitHeads(Linear(_v, x, observe), heads, headDim), cache);
            hidden = hidden.add(Linear(_out, CausalAttention.Compute(q, k, v, scale: 1), observe));

            var fc = Linear(_fc1, _mlpNorm.Apply(hidden), observe);
            var inner = Intermediates.Consume(fc, _activation(fc));
            return hidden.add(Intermediates.Consume(inner, Linear(_fc2, inner, observe)));
        }
    }
}
