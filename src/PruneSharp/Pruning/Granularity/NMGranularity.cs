using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>
/// N:M semi-structured sparsity: in every group of M consecutive weights along the reduction axis (dimension 1 of the
/// [output, reduction, ...] layout the <see cref="Pruner"/> presents), the N highest-scoring are kept. For a linear
/// map the groups run along its inputs (a Gemm's [out, in] with transB=1 along dim 1, a MatMul's or transB=0 Gemm's
/// [in, out] along dim 0). For a Conv [out, in, kh, kw] they run along the input channels at a fixed (out, kh, kw): the
/// layout of the implicit GEMM over NHWC data whose reduction dimension is kh·kw·in with the channel innermost, which
/// is what sparse tensor cores (2:4) expect. M must divide the reduction size (a convolution group's input channels).
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
    public override string? CannotSplit(string name, IReadOnlyList<long> shape)
    {
        if (shape.Count < 2) return $"{Name} sparsity needs a weight of rank 2 or more; '{name}' has shape {Shape(shape)}";
        return shape[1] % M != 0
            ? $"{Name} sparsity: M={M} does not divide the reduction size of '{name}' ({shape[1]} in dim 1 of its [output, reduction, ...] layout {Shape(shape)})" : null;
    }

    /// <inheritdoc />
    public override Tensor ToUnits(string name, Tensor values)
    {
        CheckSplit(name, values);
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
