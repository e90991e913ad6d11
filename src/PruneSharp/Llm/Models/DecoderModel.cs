using PruneSharp.Engine;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// A decoder-only language model over a checkpoint's tensors, built for layer-by-layer work: <see cref="Embed"/> turns
/// token ids into hidden states, <see cref="LoadLayer"/> brings one decoder layer's weights into memory and
/// <see cref="Head"/> turns the last hidden states into logits; <see cref="Logits"/> chains them, one layer in memory at
/// a time. Everything is computed in float32 on the CPU, to match transformers' eager float32 forward pass.
/// </summary>
/// <remarks>
/// On construction every tensor the model will read is checked against the checkpoint by name and shape, so a missing
/// or misshapen tensor is reported before any work starts. The embedding table, position table, final norm and head
/// are read on first use and kept until <see cref="Dispose"/>; layers are read anew by each <see cref="LoadLayer"/>.
/// </remarks>
public abstract class DecoderModel : IDisposable
{
    /// <summary>The checkpoint's name of an untied output head.</summary>
    public const string LmHeadName = "lm_head.weight";

    readonly Dictionary<string, Tensor> _resident = [];
    long? _parameterCount;

    private protected DecoderModel(DecoderConfig config, ITensorSource source)
    {
        TorchEngine.EnsureLoaded();
        Config = config;
        Source = source;
        HeadTied = config.TiedEmbeddings;
        if (!HeadTied && !source.Contains(LmHeadName))
            throw new CheckpointTensorException(LmHeadName, "missing, and the config does not tie the output head to the token embeddings (tie_word_embeddings is false)");
    }

    /// <summary>Builds the model of <paramref name="config"/>'s family over <paramref name="source"/>.</summary>
    /// <exception cref="CheckpointTensorException">A tensor the model needs is missing or has the wrong shape.</exception>
    public static DecoderModel Create(DecoderConfig config, ITensorSource source) => config switch
    {
        Gpt2Config gpt2 => new Gpt2Model(gpt2, source),
        LlamaConfig llama => new LlamaModel(llama, source),
        OptConfig opt => new OptModel(opt, source),
        _ => throw new ArgumentException($"no model for config type {config.GetType().Name}", nameof(config)),
    };

    /// <summary>The model's sizes and conventions.</summary>
    public DecoderConfig Config { get; }

    /// <summary>Where the weights are read from.</summary>
    public ITensorSource Source { get; }

    /// <summary>Number of decoder layers.</summary>
    public int LayerCount => Config.LayerCount;

    /// <summary>
    /// Whether the output head is the token embedding table: when the config ties them (GPT-2 and OPT by default, whose
    /// checkpoints then leave <c>lm_head.weight</c> out). An untied config needs <c>lm_head.weight</c>.
    /// </summary>
    public bool HeadTied { get; }

    /// <summary>Parameters of the model (sum of its tensors' sizes; a tied head counted once).</summary>
    public long ParameterCount => _parameterCount ??=
        ModelTensors().Concat(Enumerable.Range(0, LayerCount).SelectMany(LayerTensors)).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>One line for <c>llm inspect</c>: family, layers, width, heads and key/value heads, MLP, vocabulary, head, parameters.</summary>
    public string Description
    {
        get
        {
            var c = Config;
            string kv = c.KeyValueHeadCount == c.HeadCount ? "" : $" ({c.KeyValueHeadCount} key/value heads)";
            return $"{c.ModelType}: {c.LayerCount} layers, width {c.HiddenSize}, {c.HeadCount} heads of {c.HeadDim}{kv}, " +
                   $"MLP {c.IntermediateSize} ({c.Activation}), vocabulary {c.VocabularySize}, {(HeadTied ? "tied" : "separate")} head, " +
                   $"{ParameterCount:N0} parameters";
        }
    }

    /// <summary>
    /// Token ids [B, T] (int64) to hidden states [B, T, D]: token embeddings, plus learned positions
    /// <paramref name="start"/>..start + T − 1 where the family has them (a decoder continuing after
    /// <paramref name="start"/> cached tokens passes that count).
    /// </summary>
    /// <exception cref="ArgumentException">The ids are not int64 [B, T], are outside the vocabulary, or start + T exceeds a learned position table.</exception>
    public Tensor Embed(Tensor ids, long start = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (ids.dtype != ScalarType.Int64 || ids.dim() != 2 || ids.numel() == 0)
            throw new ArgumentException($"token ids must be a non-empty int64 [batch, tokens] tensor, got {ids.dtype} [{string.Join(", ", ids.shape)}]", nameof(ids));
        long lowest = ids.min().item<long>(), highest = ids.max().item<long>();
        if (lowest < 0 || highest >= Config.VocabularySize)
            throw new ArgumentException($"token ids range over [{lowest}, {highest}] but the vocabulary has {Config.VocabularySize} entries", nameof(ids));
        using var scope = NewDisposeScope();
        return EmbedTokens(ids, start).MoveToOuterDisposeScope();
    }

    /// <summary>Reads layer <paramref name="index"/>'s weights (only those) and returns the layer; dispose it to free them.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a layer.</exception>
    public DecoderLayer LoadLayer(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LayerCount);
        return ReadLayer(index);
    }

    /// <summary>
    /// The name prefix every checkpoint tensor of layer <paramref name="index"/> starts with, ending in a dot
    /// (<c>model.layers.3.</c>, GPT-2 <c>h.3.</c>, OPT <c>model.decoder.layers.3.</c>): the longest common prefix of the
    /// layer's tensor names, cut after its last dot. Buffers a checkpoint stores beside the weights (GPT-2's
    /// <c>attn.bias</c>) share it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a layer.</exception>
    public string LayerPrefix(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LayerCount);
        return CommonPrefix(index);
    }

    /// <summary><see cref="LayerPrefix"/> of any index, a layer or not.</summary>
    string CommonPrefix(int index)
    {
        string common = LayerTensors(index).Select(t => t.Name).Aggregate((a, b) =>
        {
            int n = 0;
            while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
            return a[..n];
        });
        return common[..(common.LastIndexOf('.') + 1)];
    }

    /// <summary>Final norm and output head: hidden states [B, T, D] to logits [B, T, V].</summary>
    /// <exception cref="ArgumentException"><paramref name="hidden"/> is not float32 [B, T, D].</exception>
    public Tensor Head(Tensor hidden)
    {
        if (hidden.dim() != 3 || hidden.shape[2] != Config.HiddenSize || hidden.dtype != ScalarType.Float32)
            throw new ArgumentException($"the head expects float32 hidden states [batch, tokens, {Config.HiddenSize}], got {hidden.dtype} [{string.Join(", ", hidden.shape)}]", nameof(hidden));
        using var scope = NewDisposeScope();
        var weight = HeadTied ? TokenEmbedding : Resident(LmHeadName, Config.VocabularySize, Config.HiddenSize);
        return nn.functional.linear(FinalNorm(hidden), weight).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The whole model on token ids [B, T]: embed, every layer loaded, applied and freed in turn, head. Returns logits
    /// [B, T, V] (gradients off).
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Embed"/>.</exception>
    public Tensor Logits(Tensor ids, CancellationToken cancellation = default)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var hidden = Embed(ids);
        for (int i = 0; i < LayerCount; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var layer = LoadLayer(i);
            var next = layer.Forward(hidden);
            hidden.Dispose();
            hidden = next;
        }
        return Head(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Perplexity on a token stream with <see cref="Evaluator.Perplexity"/>'s protocol (windows of
    /// <paramref name="contextLength"/> tokens every <paramref name="stride"/> tokens, each token after the first scored
    /// once), each batch of windows run through <see cref="Logits"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Bad lengths, or token ids outside the vocabulary.</exception>
    public PerplexityResult Perplexity(IReadOnlyList<int> tokens, int contextLength, int? stride = null, int batchSize = 8,
        CancellationToken cancellation = default)
    {
        using var module = new LogitsModule(this, cancellation);
        return Evaluator.Perplexity(module, tokens, contextLength, stride, batchSize, cancellation);
    }

    /// <summary>
    /// Frees the tensors kept between calls (embeddings, final norm, head); the next call that needs one reads it from
    /// the checkpoint again. Layer-by-layer work calls this once the calibration windows are embedded, so that the
    /// embedding table (often the largest single tensor) is not held while the layers are pruned.
    /// </summary>
    public void ReleaseResident()
    {
        foreach (var tensor in _resident.Values) tensor.Dispose();
        _resident.Clear();
    }

    /// <summary>Frees the tensors kept between calls (<see cref="ReleaseResident"/>).</summary>
    public void Dispose()
    {
        ReleaseResident();
        GC.SuppressFinalize(this);
    }

    /// <summary>The token embedding table [V, D] (kept resident).</summary>
    private protected abstract Tensor TokenEmbedding { get; }

    /// <summary>The family's embedding of valid ids at positions <paramref name="start"/> on.</summary>
    private protected abstract Tensor EmbedTokens(Tensor ids, long start);

    /// <summary>The family's norm before the head (identity when there is none).</summary>
    private protected abstract Tensor FinalNorm(Tensor hidden);

    /// <summary>Reads one layer.</summary>
    private protected abstract DecoderLayer ReadLayer(int index);

    /// <summary>The tensors outside the layers (embeddings, final norm, an untied head), by checkpoint name and shape.</summary>
    private protected abstract IEnumerable<TensorSpec> ModelTensors();

    /// <summary>The tensors of layer <paramref name="index"/>, by checkpoint name and shape.</summary>
    private protected abstract IEnumerable<TensorSpec> LayerTensors(int index);

    /// <summary>Checks every tensor the model will read (called at the end of each family's constructor).</summary>
    private protected void CheckTensors()
    {
        foreach (var spec in ModelTensors().Concat(Enumerable.Range(0, LayerCount).SelectMany(LayerTensors)))
            CheckShape(spec.Name, spec.Shape);
        // Weights of a layer past the last: the config and the weights disagree on the depth.
        string next = CommonPrefix(LayerCount);
        if (Source.Names.FirstOrDefault(n => n.StartsWith(next, StringComparison.Ordinal)) is { } extra)
            throw new CheckpointTensorException(extra, $"belongs to layer {LayerCount}, but the config has {LayerCount} layer(s) (num_hidden_layers or n_layer)");
    }

    void CheckShape(string name, long[] shape)
    {
        if (!Source.Contains(name))
            throw new CheckpointTensorException(name, $"missing from the checkpoint ({Config.ModelType} expects shape [{string.Join(", ", shape)}])");
        var actual = Source.Shape(name);
        if (!actual.SequenceEqual(shape))
            throw new CheckpointTensorException(name, $"has shape [{string.Join(", ", actual)}] but the config implies [{string.Join(", ", shape)}]");
    }

    /// <summary>Reads a tensor as float32 after checking its name and shape; the caller owns it.</summary>
    private protected Tensor Read(string name, params long[] shape)
    {
        CheckShape(name, shape);
        var tensor = Source.Read(name);
        if (tensor.dtype != ScalarType.Float32 || !tensor.shape.SequenceEqual(shape))
        {
            string problem = $"the source returned {tensor.dtype} [{string.Join(", ", tensor.shape)}], expected float32 [{string.Join(", ", shape)}]";
            tensor.Dispose();
            throw new CheckpointTensorException(name, problem);
        }
        return tensor;
    }

    /// <summary>A model-level tensor, read on first use and kept until <see cref="Dispose"/>.</summary>
    private protected Tensor Resident(string name, params long[] shape)
    {
        if (!_resident.TryGetValue(name, out var tensor))
        {
            tensor = Read(name, shape);
            tensor.DetachFromDisposeScope();
            _resident[name] = tensor;
        }
        return tensor;
    }

    /// <summary>The first of <paramref name="prefixes"/> under which the checkpoint has <paramref name="probe"/> (checkpoints of base models drop <c>transformer.</c> or <c>model.</c>).</summary>
    private protected static string Prefix(ITensorSource source, string probe, params string[] prefixes) =>
        prefixes.FirstOrDefault(p => source.Contains(p + probe))
        ?? throw new CheckpointTensorException(prefixes[0] + probe, $"missing from the checkpoint (also looked for {string.Join(", ", prefixes.Skip(1).Select(p => p + probe))})");

    /// <summary>The model as a module mapping ids to logits, for <see cref="Evaluator.Perplexity"/>.</summary>
    sealed class LogitsModule(DecoderModel model, CancellationToken cancellation) : nn.Module<Tensor, Tensor>("decoder")
    {
        public override Tensor forward(Tensor ids) => model.Logits(ids, cancellation);
    }
}

/// <summary>A tensor a model reads: its checkpoint name and the shape the config implies.</summary>
readonly record struct TensorSpec(string Name, long[] Shape);
