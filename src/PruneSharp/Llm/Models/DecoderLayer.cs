using PruneSharp.Llm.Decoding;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// One decoder layer with its weights in memory (float32, CPU), loaded by <see cref="DecoderModel.LoadLayer"/> and
/// freed by <see cref="Dispose"/>. <see cref="Forward"/> runs causal self-attention over full-length sequences
/// (no padding; positions 0..T−1) followed by the MLP, each with its residual connection.
/// </summary>
public abstract class DecoderLayer : IDisposable
{
    readonly List<Tensor> _owned = [];
    bool _disposed;

    private protected DecoderLayer(int index, long hiddenSize)
    {
        Index = index;
        HiddenSize = hiddenSize;
    }

    /// <summary>The layer's index in the model.</summary>
    public int Index { get; }

    /// <summary>Width of the hidden states it reads and writes.</summary>
    public long HiddenSize { get; }

    /// <summary>The pruneable linear layers, in the order data reaches them.</summary>
    public abstract IReadOnlyList<LinearSite> Linears { get; }

    /// <summary>
    /// Hidden states [B, T, D] in, hidden states [B, T, D] out (a new tensor; the input is left alone).
    /// </summary>
    /// <param name="hidden">float32 hidden states.</param>
    /// <param name="observeInput">
    /// Called once per linear layer with its input activation [B, T, in], just before the layer is applied, in the
    /// order of <see cref="Linears"/>. Linear layers that read the same activation (q, k and v; gate and up) each get a
    /// call with the same tensor object. The tensor is valid only during the call (copy what must be kept).
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="hidden"/> is not float32 [B, T, D].</exception>
    public Tensor Forward(Tensor hidden, Action<LinearSite, Tensor>? observeInput = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (hidden.dim() != 3 || hidden.shape[2] != HiddenSize || hidden.shape[1] == 0 || hidden.dtype != ScalarType.Float32)
            throw new ArgumentException($"layer {Index} expects float32 hidden states [batch, tokens, {HiddenSize}], got {hidden.dtype} [{string.Join(", ", hidden.shape)}]", nameof(hidden));
        using var scope = NewDisposeScope();
        return Block(hidden, observeInput, cache: null).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The next tokens' hidden states [B, T, D] in, given the keys and values of the tokens before them in
    /// <paramref name="cache"/> (which this call extends by T); hidden states [B, T, D] out, equal to what
    /// <see cref="Forward"/> gives at those positions for the whole sequence.
    /// </summary>
    internal Tensor Step(Tensor hidden, LayerKeyValues cache)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        return Block(hidden, observeInput: null, cache).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The family's block, in the order data flows. Without a <paramref name="cache"/> the tokens are positions
    /// 0..T−1; with one they follow the <see cref="LayerKeyValues.Length"/> cached positions, whose keys and values
    /// attention also reads (see <see cref="Positions"/> and <see cref="Remember"/>).
    /// </summary>
    private protected abstract Tensor Block(Tensor hidden, Action<LinearSite, Tensor>? observeInput, LayerKeyValues? cache);

    /// <summary>The position of the first of the tokens a block is given: the number of tokens cached before them.</summary>
    private protected static long Positions(LayerKeyValues? cache) => cache?.Length ?? 0;

    /// <summary>
    /// The keys and values attention reads: the new tokens' own (no cache), or the cached ones followed by the new ones
    /// (which the cache keeps for the next step). Keys are cached after any rotary embedding, as transformers does.
    /// </summary>
    private protected static (Tensor Keys, Tensor Values) Remember(Tensor keys, Tensor values, LayerKeyValues? cache) =>
        cache is null ? (keys, values) : cache.Append(keys, values);

    /// <summary>Applies <paramref name="site"/> to <paramref name="x"/>, telling the observer first.</summary>
    private protected static Tensor Linear(LinearSite site, Tensor x, Action<LinearSite, Tensor>? observeInput)
    {
        observeInput?.Invoke(site, x);
        return site.Apply(x);
    }

    /// <summary>Takes ownership of a weight tensor (freed on dispose, not by any dispose scope around the load).</summary>
    private protected Tensor Own(Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        _owned.Add(tensor);
        return tensor;
    }

    /// <summary>Splits [B, T, heads·d] into [B, heads, T, d].</summary>
    private protected static Tensor SplitHeads(Tensor x, long heads, long headDim) =>
        x.view(x.shape[0], x.shape[1], heads, headDim).transpose(1, 2);

    /// <summary>Frees the layer's weights (and with them every <see cref="LinearSite.Weight"/>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var tensor in _owned) tensor.Dispose();
        _owned.Clear();
        GC.SuppressFinalize(this);
    }
}
