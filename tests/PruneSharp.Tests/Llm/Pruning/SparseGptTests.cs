using PruneSharp.Llm.Pruning;
using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Pruning;

public class SparseGptTests
{
    /// <summary>
    /// The paper's algorithm without lazy batching: one column at a time, each update applied to every column to its
    /// right at once; the unstructured mask of a block chosen (naive sort) when the sweep reaches the block, N:M per
    /// group at its first column. Float64; H⁻¹ through a plain inverse.
    /// </summary>
    static (Tensor W, bool[] Keep) NaiveObs(Tensor weight, Tensor hessian, SparsityPattern pattern, int block, double percdamp = 0.01)
    {
        long rows = weight.shape[0], columns = weight.shape[1];
        var w = weight.to(ScalarType.Float64, copy: true);
        var h = hessian.to(ScalarType.Float64, copy: true);
        for (long j = 0; j < columns; j++)
            if (h[j, j].item<double>() == 0) { h[j, j] = tensor(1.0); w[TensorIndex.Colon, j] = tensor(0.0); }
        double damp = percdamp * h.diagonal().mean().item<double>();
        h.add_(eye(columns, dtype: ScalarType.Float64).mul_(damp));
        var u = linalg.cholesky(linalg.inv(h)).t().contiguous();
        var d = u.diagonal().data<double>().ToArray();
        var keep = Enumerable.Repeat(true, (int)(rows * columns)).ToArray();
        for (long j = 0; j < columns; j++)
        {
            if (!pattern.IsNM && j % block == 0)
            {
                long count = Math.Min(block, columns - j);
                var values = w.narrow(1, j, count).contiguous().data<double>().ToArray();
                var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i] * values[i] / (d[j + i % count] * d[j + i % count])).ThenBy(i => i);
                foreach (int i in order.Take((int)Math.Round(pattern.Sparsity * values.Length, MidpointRounding.ToEven)))
                    keep[(i / count) * columns + j + i % count] = false;
            }
            if (pattern.IsNM && j % pattern.M == 0)
            {
                var values = w.narrow(1, j, pattern.M).contiguous().data<double>().ToArray();
                for (long r = 0; r < rows; r++)
                {
                    var order = Enumerable.Range(0, pattern.M).OrderBy(i => values[r * pattern.M + i] * values[r * pattern.M + i] / (d[j + i] * d[j + i])).ThenByDescending(i => i);
                    foreach (int i in order.Take(pattern.M - pattern.N)) keep[r * columns + j + i] = false;
                }
            }
            var column = w[TensorIndex.Colon, j].clone();
            var kept = tensor(Enumerable.Range(0, (int)rows).Select(r => keep[r * columns + j] ? 1.0 : 0.0).ToArray());
            var q = column.mul(kept);
            var err = column.sub(q).div_(d[j]);
            w.narrow(1, j, columns - j).sub_(err.unsqueeze(1).matmul(u[j].narrow(0, j, columns - j).unsqueeze(0)));
            w[TensorIndex.Colon, j] = q;
        }
        return (w, keep);
    }

    [Theory]
    [InlineData("0.5", 32)]
    [InlineData("0.6", 48)]
    [InlineData("2:4", 32)]
    [InlineData("4:8", 128)]
    public void Lazy_blocks_equal_the_naive_column_by_column_OBS_sweep(string sparsity, int block)
    {
        var pattern = SparsityPattern.Parse(sparsity);
        var (w, x) = LayerFixture.Make(5, 24, 96, 400, ScalarType.Float64);
        var h = LayerFixture.Hessian(x);
        using var result = SparseGpt.Prune(w, h, pattern, new SparseGptOptions { BlockSize = block });
        var (expected, keep) = NaiveObs(w, h, pattern, block);
        Assert.Equal(keep, result.Mask.reshape(-1).data<bool>().ToArray());
        Assert.True(result.Weight.allclose(expected, rtol: 1e-9, atol: 1e-10));
        Assert.Equal(ScalarType.Float64, result.Weight.dtype);
    }

    public static TheoryData<string> Patterns() => new() { "0.5", "2:4", "4:8", "0.7" };

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Reconstructs_better_than_magnitude_and_Wanda_on_correlated_inputs(string sparsity)
    {
        var pattern = SparsityPattern.Parse(sparsity);
        var (w, x) = LayerFixture.Make(6, 64, 256, 1024);
        using var statistics = new InputStatistics(256);
        statistics.Add(x);
        var h = statistics.Hessian();
        using var sparseGpt = SparseGpt.Prune(w, h, pattern);
        using var wanda = WandaPruning.Prune(w, statistics, pattern);
        using var magnitude = MagnitudePruning.Prune(w, pattern);
        double ours = ReconstructionError.Relative(w, sparseGpt.Weight, h);
        Assert.True(ours <= ReconstructionError.Relative(w, wanda.Weight, h), $"SparseGPT {ours} vs Wanda {ReconstructionError.Relative(w, wanda.Weight, h)}");
        Assert.True(ours <= ReconstructionError.Relative(w, magnitude.Weight, h));
        // Exact counts per comparison group: round(s·out·B) per block of B = 128 columns, or N of every M.
        long expectedPruned = pattern.IsNM ? 64 * 256 / pattern.M * (pattern.M - pattern.N) : 2 * (long)Math.Round(pattern.Sparsity * 64 * 128, MidpointRounding.ToEven);
        Assert.Equal(expectedPruned, sparseGpt.Mask.logical_not().count_nonzero().item<long>());
        // The error from H agrees with the error computed from the activations.
        Assert.Equal(LayerFixture.DirectError(w, sparseGpt.Weight, x), ours, 4);
    }

    [Fact]
    public void Dead_columns_are_zeroed_and_pruned_and_the_rest_still_works()
    {
        var (w, x) = LayerFixture.Make(7, 16, 64, 300);
        x.narrow(1, 10, 3).zero_();
        x.narrow(1, 40, 1).zero_();
        var h = LayerFixture.Hessian(x);
        using var result = SparseGpt.Prune(w, h, SparsityPattern.Unstructured(0.5), new SparseGptOptions { BlockSize = 32 });
        Assert.True(result.Weight.narrow(1, 10, 3).eq(0).all().item<bool>());
        Assert.True(result.Weight.narrow(1, 40, 1).eq(0).all().item<bool>());
        Assert.True(result.Weight.isfinite().all().item<bool>());
        Assert.Equal(0.5, result.Sparsity, 12);
        Assert.True(ReconstructionError.Relative(w, result.Weight, h) < 0.5);
    }

    [Fact]
    public void Bad_requests_are_one_clear_error()
    {
        var w = ones(4, 8);
        Assert.Contains("H of shape [8,8]", Assert.Throws<PruningException>(() => SparseGpt.Prune(w, eye(7), SparsityPattern.Unstructured(0.5))).Message);
        Assert.Contains("multiple of M", Assert.Throws<PruningException>(() => SparseGpt.Prune(w, eye(8), SparsityPattern.NM(2, 4), new SparseGptOptions { BlockSize = 6 })).Message);
        var indefinite = eye(8).mul(-1);
        Assert.Contains("positive definite", Assert.Throws<PruningException>(() => SparseGpt.Prune(w, indefinite, SparsityPattern.Unstructured(0.5))).Message);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => SparseGpt.Prune(w, eye(8), SparsityPattern.Unstructured(0.5), cancellation: cancelled.Token));
    }
}
