using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// Rotary position embedding (Su et al. 2021) in the layout of transformers' Llama: a head of width d is rotated in
/// the pairs (i, i + d/2), not (2i, 2i + 1), by the angle position·θ^(−2i/d). So with cos and sin laid out as
/// [freqs, freqs], x ↦ x·cos + rotate_half(x)·sin, where rotate_half(x) = [−x[d/2:], x[:d/2]].
/// </summary>
sealed class RotaryEmbedding
{
    readonly long _headDim;
    readonly double _theta;

    public RotaryEmbedding(long headDim, double theta) => (_headDim, _theta) = (headDim, theta);

    /// <summary>
    /// cos and sin of positions <paramref name="start"/>..start + T − 1, each [T, d] (float32, computed as transformers
    /// does: a later token decoded on its own gets exactly the angles it has inside a full sequence).
    /// </summary>
    public (Tensor Cos, Tensor Sin) Angles(long start, long length)
    {
        using var scope = NewDisposeScope();
        // inv_freq = 1 / θ^(arange(0, d, 2) / d), in float32.
        var exponents = arange(0, _headDim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32).div(_headDim);
        var inverseFrequencies = tensor((float)_theta).pow(exponents).reciprocal();
        var frequencies = outer(arange(start, start + length, dtype: ScalarType.Float32), inverseFrequencies);   // [T, d/2]
        var angles = cat([frequencies, frequencies], dim: -1);                                    // [T, d]
        return (angles.cos().MoveToOuterDisposeScope(), angles.sin().MoveToOuterDisposeScope());
    }

    /// <summary>Rotates <paramref name="x"/> [B, heads, T, d] by the angles of its positions.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotatedHalf = cat([x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)], dim: -1);
        return x.mul(cos).add(rotatedHalf.mul(sin)).MoveToOuterDisposeScope();
    }
}
