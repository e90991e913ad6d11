using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>
/// N:M semi-structured sparsity: in every group of M consecutive weights along the input dimension, the N
/// highest-scoring are kept. For a Linear [out, in] the groups run along in (dim 1). For a Conv [out, in, kh, kw]
/// they run along the input channels at a fixed (out, kh, kw): the layout of the implicit GEMM over NHWC data whose
/// reduction dimension is kh·kw·in with the channel innermost, which is what sparse tensor cores (2:4) expect.
/// M must divide the number of input channels (of a convolution's group).
/// </summary>
public sealed class NMGranularity : PatternGranularity
{
    /// <summary>Creates N:M (e.g. 2:4, 4:8).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unless 1 ≤ N &lt; M.</exception>
    public NMGranularity(int n, int m)
    {
        if (m < 2) throw new ArgumentOutOfRangeException(nameof(m), m, $"N:M needs M ≥ 2, got {n}:{m}");
        if (n < 1 || n >= m) throw new ArgumentOutOfRangeException(nameof(n), n, $"N:M needs 1 ≤ N < M, got {n}:{m}");
        N = n;
        M = m;
    }

    /// <summary>Weights kept per group.</summary>
    public int N { get; }

    /// <summary>Group size.</summary>
    public int M { get; }

    /// <inheritdoc />
    public override string Name => $"{N}:{M}";

    /// <inheritdoc />
    public override double Density => (double)N / M;

    /// <inheritdoc />
    public override Tensor ToUnits(string name, Tensor values)
    {
        if (values.dim() < 2) throw new PruningException($"{Name} sparsity needs a weight of rank 2 or more; '{name}' has shape {Shape(values)}");
        long input = values.shape[1];
        if (input % M != 0)
            throw new PruningException($"{Name} sparsity: M={M} does not divide the input dimension of '{name}' (size {input} in dim 1 of shape {Shape(values)})");
        return values.movedim(new long[] { 1 }, new long[] { values.dim() - 1 }).reshape(-1, M);
    }

    /// <inheritdoc />
    public override Tensor FromUnits(Tensor units, long[] shape)
    {
        var moved = shape.Take(1).Concat(shape.Skip(2)).Append(shape[1]).ToArray();
        return units.reshape(moved).movedim(new long[] { moved.Length - 1 }, new long[] { 1 });
    }

    /// <inheritdoc />
    public override Tensor SelectKeep(Tensor scores)
    {
        // Stable descending sort: among equal scores the lower index is kept.
        var order = scores.sort(1, descending: true, stable: true).Indices.narrow(1, 0, N);
        return zeros_like(scores, dtype: ScalarType.Bool).scatter_(1, order, ones_like(order, dtype: ScalarType.Bool));
    }
}
