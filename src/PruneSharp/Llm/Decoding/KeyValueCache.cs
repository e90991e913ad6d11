using static TorchSharp.torch;

namespace PruneSharp.Llm.Decoding;

/// <summary>
/// The keys and values every decoder layer computed for the tokens seen so far, so that decoding one more token costs
/// one token's work per layer instead of the whole sequence's. Keys are stored after the rotary embedding (Llama) and
/// values as projected; with grouped-query attention only the key/value heads are stored. Owned by an
/// <see cref="IncrementalDecoder"/>.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    readonly LayerKeyValues[] _layers;

    internal KeyValueCache(int layers) => _layers = Enumerable.Range(0, layers).Select(_ => new LayerKeyValues()).ToArray();

    /// <summary>Tokens cached (the position the next token will take).</summary>
    public long Length => _layers.Length == 0 ? 0 : _layers[0].Length;

    /// <summary>Bytes the cached keys and values occupy (allocated capacity included).</summary>
    public long Bytes => _layers.Sum(l => l.Bytes);

    internal LayerKeyValues this[int layer] => _layers[layer];

    /// <summary>Forgets every cached token (the memory is kept for the next sequence).</summary>
    public void Clear()
    {
        foreach (var layer in _layers) layer.Length = 0;
    }

    /// <summary>Frees the cached tensors.</summary>
    public void Dispose()
    {
        foreach (var layer in _layers) layer.Dispose();
    }
}

/// <summary>
/// One layer's cache: keys and values [B, KV, capacity, d], of which the first <see cref="Length"/> positions are
/// filled. The capacity doubles when a step would overflow it, so appending a token copies one token's keys and values.
/// </summary>
sealed class LayerKeyValues : IDisposable
{
    Tensor? _keys, _values;

    /// <summary>Positions filled.</summary>
    public long Length { get; set; }

    public long Bytes => 2 * (_keys?.numel() ?? 0) * sizeof(float);

    /// <summary>
    /// Stores the keys and values of the next T positions ([B, KV, T, d] each) after the cached ones and returns all
    /// of them, [B, KV, Length, d], as views valid until the next append.
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(Tensor keys, Tensor values)
    {
        long added = keys.shape[2];
        if (_keys is null || _keys.shape[2] < Length + added || !SameLayout(_keys, keys))
        {
            if (_keys is not null && Length > 0 && !SameLayout(_keys, keys))
                throw new ArgumentException($"cached keys are [{string.Join(", ", _keys.shape)}] but the next ones are [{string.Join(", ", keys.shape)}]");
            long capacity = Math.Max(16, 2 * (Length + added));
            _keys = Grow(_keys, keys, capacity);
            _values = Grow(_values, values, capacity);
        }
        _keys.narrow(2, Length, added).copy_(keys);
        _values!.narrow(2, Length, added).copy_(values);
        Length += added;
        return (_keys.narrow(2, 0, Length), _values.narrow(2, 0, Length));
    }

    static bool SameLayout(Tensor cached, Tensor next) =>
        cached.shape[0] == next.shape[0] && cached.shape[1] == next.shape[1] && cached.shape[3] == next.shape[3];

    /// <summary>A buffer of <paramref name="capacity"/> positions holding what <paramref name="old"/> held (kept out of any dispose scope).</summary>
    Tensor Grow(Tensor? old, Tensor like, long capacity)
    {
        var buffer = empty([like.shape[0], like.shape[1], capacity, like.shape[3]], dtype: like.dtype);
        buffer.DetachFromDisposeScope();
        if (old is not null)
        {
            if (Length > 0) buffer.narrow(2, 0, Length).copy_(old.narrow(2, 0, Length));
            old.Dispose();
        }
        return buffer;
    }

    public void Dispose()
    {
        _keys?.Dispose();
        _values?.Dispose();
        (_keys, _values, Length) = (null, null, 0);
    }
}
