using PruneSharp.Llm.Decoding;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// GPT-2: h = wte[ids] + wpe[0..T−1]; per layer h += attn(ln_1(h)), h += mlp(ln_2(h)); logits = ln_f(h)·wteᵀ.
/// Tensor names <c>transformer.h.0.attn.c_attn.weight</c>, or without <c>transformer.</c> as some checkpoints write them.
/// </summary>
sealed class Gpt2Model : DecoderModel
{
    readonly Gpt2Config _config;
    readonly string _prefix;

    public Gpt2Model(Gpt2Config config, ITensorSource source) : base(config, source)
    {
        _config = config;
        _prefix = Prefix(source, "wte.weight", "transformer.", "");
        CheckTensors();
    }

    long D => _config.HiddenSize;

    private protected override Tensor TokenEmbedding => Resident($"{_prefix}wte.weight", _config.VocabularySize, D);

    Tensor PositionTable => Resident($"{_prefix}wpe.weight", _config.MaxPositions, D);

    private protected override IEnumerable<TensorSpec> ModelTensors()
    {
        yield return new($"{_prefix}wte.weight", [_config.VocabularySize, D]);
        yield return new($"{_prefix}wpe.weight", [_config.MaxPositions, D]);
        yield return new($"{_prefix}ln_f.weight", [D]);
        yield return new($"{_prefix}ln_f.bias", [D]);
        if (!HeadTied) yield return new(LmHeadName, [_config.VocabularySize, D]);
    }

    private protected override IEnumerable<TensorSpec> LayerTensors(int index)
    {
        string p = $"{_prefix}h.{index}.";
        long inner = _config.IntermediateSize;
        foreach (string norm in new[] { "ln_1", "ln_2" })
        {
            yield return new($"{p}{norm}.weight", [D]);
            yield return new($"{p}{norm}.bias", [D]);
        }
        // Conv1D stores weights [in, out].
        yield return new($"{p}attn.c_attn.weight", [D, 3 * D]);
        yield return new($"{p}attn.c_attn.bias", [3 * D]);
        yield return new($"{p}attn.c_proj.weight", [D, D]);
        yield return new($"{p}attn.c_proj.bias", [D]);
        yield return new($"{p}mlp.c_fc.weight", [D, inner]);
        yield return new($"{p}mlp.c_fc.bias", [inner]);
        yield return new($"{p}mlp.c_proj.weight", [inner, D]);
        yield return new($"{p}mlp.c_proj.bias", [D]);
    }

    private protected override Tensor EmbedTokens(Tensor ids, long start)
    {
        long length = ids.shape[1];
        if (start + length > _config.MaxPositions)
            throw new ArgumentException($"{start + length} tokens exceed GPT-2's learned positions (n_positions {_config.MaxPositions})", nameof(ids));
        var tokens = TokenEmbedding.index_select(0, ids.flatten()).view(ids.shape[0], length, D);
        return tokens.add(PositionTable.narrow(0, start, length));
    }

    private protected override Tensor FinalNorm(Tensor hidden) =>
        new LayerNorm(Resident($"{_prefix}ln_f.weight", D), Resident($"{_prefix}ln_f.bias", D), _config.LayerNormEpsilon).Apply(hidden);

    private protected override DecoderLayer ReadLayer(int index) => new Layer(this, index);

    sealed class Layer : DecoderLayer
    {
        readonly Gpt2Config _config;
        readonly LayerNorm _ln1, _ln2;
        readonly LinearSite _attention, _attentionOutput, _fc, _projection;
        readonly Func<Tensor, Tensor> _activation;

        public Layer(Gpt2Model model, int index) : base(index, model.D)
        {
            _config = model._config;
            string p = $"{model._prefix}h.{index}.";
            long d = model.D, inner = _config.IntermediateSize;
            LayerNorm Norm(string name) =>
                new(Own(model.Read($"{p}{name}.weight", d)), Own(model.Read($"{p}{name}.bias", d)), _config.LayerNormEpsilon);
            // Conv1D: y = x·W + b with W stored [in, out]; the site holds Wᵀ, [out, in].
            LinearSite Conv1D(string name, long inputs, long outputs)
            {
                using var stored = model.Read($"{p}{name}.weight", inputs, outputs);
                return new LinearSite(index, name, $"{p}{name}.weight", Own(stored.t().contiguous()), Own(model.Read($"{p}{name}.bias", outputs)), storedTransposed: true);
            }
            _ln1 = Norm("ln_1");
            _attention = Conv1D("attn.c_attn", d, 3 * d);         // q | k | v along the output axis
            _attentionOutput = Conv1D("attn.c_proj", d, d);
            _ln2 = Norm("ln_2");
            _fc = Conv1D("mlp.c_fc", d, inner);
            _projection = Conv1D("mlp.c_proj", inner, d);
            _activation = Activations.Get(_config.Activation);
            Linears = [_attention, _attentionOutput, _fc, _projection];
        }

        public override IReadOnlyList<LinearSite> Linears { get; }

        private protected override Tensor Block(Tensor hidden, Action<LinearSite, Tensor>? observe, LayerKeyValues? cache)
        {
            long d = _config.HiddenSize, heads = _config.HeadCount, headDim = _config.HeadDim;
            var qkv = Linear(_attention, _ln1.Apply(hidden), observe).split(d, dim: -1);
            var q = SplitHeads(qkv[0], heads, headDim);
            var (k, v) = Remember(SplitHeads(qkv[1], heads, headDim), SplitHeads(qkv[2], heads, headDim), cache);
            // scale_attn_weights: 1/√head_dim; scale_attn_by_inverse_layer_idx: also 1/(layer + 1).
            double scale = (_config.ScaleAttentionWeights ? 1 / Math.Sqrt(headDim) : 1)
                           / (_config.ScaleAttentionByInverseLayerIndex ? Index + 1 : 1);
            var context = CausalAttention.Compute(q, k, v, scale);
            hidden = hidden.add(Linear(_attentionOutput, context, observe));

            var fc = Linear(_fc, _ln2.Apply(hidden), observe);
            var inner = Intermediates.Consume(fc, _activation(fc));
            return hidden.add(Intermediates.Consume(inner, Linear(_projection, inner, observe)));
        }
    }
}
