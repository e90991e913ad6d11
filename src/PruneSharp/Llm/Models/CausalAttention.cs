using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>Causal scaled dot-product attention as transformers' eager path computes it, shared by every family.</summary>
static class CausalAttention
{
    /// <summary>
    /// softmax(q·kᵀ·scale + causal mask)·v. <paramref name="q"/> is [B, H, T, d]; <paramref name="k"/> and
    /// <paramref name="v"/> are [B, KV, T, d] with KV dividing H: key/value head j serves query heads j·g .. (j+1)·g − 1
    /// (g = H / KV; transformers' repeat_kv, a repeat_interleave). With a <paramref name="window"/>, a query at position
    /// t sees keys s with t − window &lt; s ≤ t (transformers' sliding_window_overlay). The keys are those of positions
    /// 0..S−1 and the queries those of the last T positions, S − T..S − 1 (S = T for a whole sequence; with a key/value
    /// cache, the earlier positions' keys come first). Returns [B, T, H·d], heads concatenated in order.
    /// </summary>
    public static Tensor Compute(Tensor q, Tensor k, Tensor v, double scale, long? window = null)
    {
        using var scope = NewDisposeScope();
        long batch = q.shape[0], heads = q.shape[1], length = q.shape[2], keys = k.shape[2];
        long groups = heads / k.shape[1];
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, dim: 1);
            v = v.repeat_interleave(groups, dim: 1);
        }
        var query = arange(keys - length, keys).unsqueeze(1);
        var key = arange(keys).unsqueeze(0);
        var visible = key.le(query);
        if (window is { } w) visible = visible.logical_and(key.gt(query.sub(w)));
        // [B, H, T, S] is the largest tensor of a layer's forward pass (67 MB for 8 windows of 256 tokens and 32
        // heads): each step frees its input, so at most two are alive instead of the four a scope would keep.
        var scores = matmul(q, k.transpose(-2, -1));
        scores = Intermediates.Consume(scores, scores.mul(scale));
        scores = Intermediates.Consume(scores, scores.masked_fill(visible.logical_not(), float.NegativeInfinity));
        scores = Intermediates.Consume(scores, scores.softmax(-1));
        var context = Intermediates.Consume(scores, matmul(scores, v));                  // [B, H, T, d]
        return context.transpose(1, 2).reshape(batch, length, -1).MoveToOuterDisposeScope();
    }
}
