using PruneSharp.Llm.Decoding;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// Llama, Mistral and Qwen2: h = embed_tokens[ids]; per layer h += o_proj(attention(rotary(q), rotary(k), v)) of
/// input_layernorm(h), h += down_proj(act(gate_proj(x))·up_proj(x)) with x = post_attention_layernorm(h);
/// logits = lm_head(norm(h)). Tensor names <c>model.layers.0.self_attn.q_proj.weight</c> (or without <c>model.</c>).
/// </summary>
sealed class LlamaModel : DecoderModel
{
    readonly LlamaConfig _config;
    readonly string _prefix;
    readonly RotaryEmbedding _rotary;

    public LlamaModel(LlamaConfig config, ITensorSource source) : base(config, source)
    {
        _config = config;
        _prefix = Prefix(source, "embed_tokens.weight", "model.", "");
        _rotary = new RotaryEmbedding(config.HeadDim, config.RopeTheta);
        CheckTensors();
    }

    long D => _config.HiddenSize;
    long QueryWidth => _config.HeadCount * _config.HeadDim;
    long KeyValueWidth => _config.KeyValueHeadCount * _config.HeadDim;

    private protected override Tensor TokenEmbedding => Resident($"{_prefix}embed_tokens.weight", _config.VocabularySize, D);

    private protected override IEnumerable<TensorSpec> ModelTensors()
    {
        yield return new($"{_prefix}embed_tokens.weight", [_config.VocabularySize, D]);
        yield return new($"{_prefix}norm.weight", [D]);
        if (!HeadTied) yield return new(LmHeadName, [_config.VocabularySize, D]);
    }

    /// <summary>Each projection: (short name, [out, in], has a bias).</summary>
    IEnumerable<(string Name, long Out, long In, bool Bias)> Projections()
    {
        long inner = _config.IntermediateSize;
        yield return ("self_attn.q_proj", QueryWidth, D, _config.QkvBias);
        yield return ("self_attn.k_proj", KeyValueWidth, D, _config.QkvBias);
        yield return ("self_attn.v_proj", KeyValueWidth, D, _config.QkvBias);
        yield return ("self_attn.o_proj", D, QueryWidth, _config.OutputBias);
        yield return ("mlp.gate_proj", inner, D, _config.MlpBias);
        yield return ("mlp.up_proj", inner, D, _config.MlpBias);
        yield return ("mlp.down_proj", D, inner, _config.MlpBias);
    }

    private protected override IEnumerable<TensorSpec> LayerTensors(int index)
    {
        string p = $"{_prefix}layers.{index}.";
        yield return new($"{p}input_layernorm.weight", [D]);
        yield return new($"{p}post_attention_layernorm.weight", [D]);
        foreach (var (name, outputs, inputs, bias) in Projections())
        {
            yield return new($"{p}{name}.weight", [outputs, inputs]);
            if (bias) yield return new($"{p}{name}.bias", [outputs]);
        }
    }

    private protected override Tensor EmbedTokens(Tensor ids, long start) =>
        TokenEmbedding.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], D);

    private protected override Tensor FinalNorm(Tensor hidden) =>
        new RmsNorm(Resident($"{_prefix}norm.weight", D), _config.RmsNormEpsilon).Apply(hidden);

    private protected override DecoderLayer ReadLayer(int index) => new Layer(this, index);

    sealed class Layer : DecoderLayer
    {
        readonly LlamaConfig _config;
        readonly RotaryEmbedding _rotary;
        readonly RmsNorm _inputNorm, _postAttentionNorm;
        readonly LinearSite _q, _k, _v, _o, _gate, _up, _down;
        readonly Func<Tensor, Tensor> _activation;

        public Layer(LlamaModel model, int index) : base(index, model.D)
        {
            _config = model._config;
            _rotary = model._rotary;
            string p = $"{model._prefix}layers.{index}.";
            _inputNorm = new RmsNorm(Own(model.Read($"{p}input_layernorm.weight", model.D)), _config.RmsNormEpsilon);
            _postAttentionNorm = new RmsNorm(Own(model.Read($"{p}post_attention_layernorm.weight", model.D)), _config.RmsNormEpsilon);
            var sites = model.Projections().Select(s => new LinearSite(index, s.Name, $"{p}{s.Name}.weight",
                Own(model.Read($"{p}{s.Name}.weight", s.Out, s.In)), s.Bias ? Own(model.Read($"{p}{s.Name}.bias", s.Out)) : null,
                storedTransposed: false)).ToArray();
            (_q, _k, _v, _o, _gate, _up, _down) = (sites[0], sites[1], sites[2], sites[3], sites[4], sites[5], sites[6]);
            _activation = Activations.Get(_config.Activation);
            Linears = sites;
        }

        public override IReadOnlyList<LinearSite> Linears { get; }

        private protected override Tensor Block(Tensor hidden, Action<LinearSite, Tensor>? observe, LayerKeyValues? cache)
        {
            long headDim = _config.HeadDim;
            var x = _inputNorm.Apply(hidden);
            var q = SplitHeads(Linear(_q, x, observe), _config.HeadCount, headDim);
            var k = SplitHeads(Linear(_k, x, observe), _config.KeyValueHeadCount, headDim);
            var v = SplitHeads(Linear(_v, x, observe), _config.KeyValueHeadCount, headDim);
            var (cos, sin) = _rotary.Angles(Positions(cache), hidden.shape[1]);
            q = RotaryEmbedding.Apply(q, cos, sin);
            (k, v) = Remember(RotaryEmbedding.Apply(k, cos, sin), v, cache);
            var context = CausalAttention.Compute(q, k, v, 1 / Math.Sqrt(headDim), _config.AttentionWindows[Index]);
            hidden = hidden.add(Linear(_o, context, observe));

            x = _postAttentionNorm.Apply(hidden);
            // The MLP's [B, T, inner] intermediates are freed as soon as they are used (46 MB each for 8 windows of 256
            // tokens at width 5632), so at most three are alive.
            var gate = Linear(_gate, x, observe);
            var gated = Intermediates.Consume(gate, _activation(gate));
            var up = Linear(_up, x, observe);
            gated = Intermediates.Consume(gated, gated.mul(up));
            up.Dispose();
            return hidden.add(Intermediates.Consume(gated, Linear(_down, gated, observe)));
        }
    }
}
