using PruneSharp.Llm.Pruning;
using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Pruning;

public class MaskTests
{
    static float[] Values(Tensor t) => t.detach().to(ScalarType.Float32).contiguous().reshape(-1).data<float>().ToArray();

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.3)]
    [InlineData(0.7)]
    public void Wanda_mask_is_a_naive_per_row_sort_of_weight_times_input_norm(double sparsity)
    {
        var (w, x) = LayerFixture.Make(2, 12, 40, 200);
        using var statistics = new InputStatistics(40, hessian: false);
        statistics.Add(x);
        // Ties on purpose: two equal weights in a row that reads two equal-norm columns.
        using var result = WandaPruning.Prune(w, statistics, SparsityPattern.Unstructured(sparsity));
        var scores = Values(w.abs().mul(x.square().sum(dim: 0).sqrt()));
        var mask = result.Mask.reshape(-1).data<bool>().ToArray();
        int pruned = (int)Math.Round(sparsity * 40, MidpointRounding.ToEven);
        for (int r = 0; r < 12; r++)
        {
            var removed = Enumerable.Range(0, 40).OrderBy(c => scores[r * 40 + c]).ThenBy(c => c).Take(pruned).ToHashSet();
            for (int c = 0; c < 40; c++) Assert.Equal(!removed.Contains(c), mask[r * 40 + c]);
        }
        Assert.True(result.Weight.eq(w.mul(result.Mask)).all().item<bool>());
    }

    [Fact]
    public void Equal_scores_in_a_row_prune_the_lower_index_first()
    {
        using var statistics = new InputStatistics(6, hessian: false);
        statistics.Add(ones(3, 6));
        using var result = WandaPruning.Prune(ones(2, 6), statistics, SparsityPattern.Unstructured(0.5));
        Assert.Equal(new[] { false, false, false, true, true, true }, result.Mask[0].data<bool>().ToArray());
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.25)]
    [InlineData(0.9)]
    public void Per_row_selection_with_heavy_ties_matches_a_naive_stable_sort(double sparsity)
    {
        var generator = new Generator(12);
        var scores = randint(0, 5, new long[] { 9, 37 }, generator: generator).to(ScalarType.Float32);
        var values = Values(scores);
        var mask = MaskSelection.KeepPerRow(scores, sparsity).reshape(-1).data<bool>().ToArray();
        int pruned = (int)Math.Round(sparsity * 37, MidpointRounding.ToEven);
        for (int r = 0; r < 9; r++)
        {
            var removed = Enumerable.Range(0, 37).OrderBy(c => values[r * 37 + c]).ThenBy(c => c).Take(pruned).ToHashSet();
            for (int c = 0; c < 37; c++) Assert.Equal(!removed.Contains(c), mask[r * 37 + c]);
        }
    }

    [Theory]
    [InlineData(5, 0.5)]
    [InlineData(1000, 0.5)]
    [InlineData(1000, 0.1)]
    [InlineData(3, 0.99)]
    public void Per_row_selection_of_long_rows_with_NaN_infinities_and_signed_zeros_matches_a_naive_stable_sort(int distinct, double sparsity)
    {
        // Long rows take the partitioning path; few distinct values make ties; NaN ranks above +∞ and −0 equals +0.
        var generator = new Generator(7);
        var values = Values(randint(0, distinct, new long[] { 23, 1531 }, generator: generator).to(ScalarType.Float32));
        for (int i = 0; i < values.Length; i += 97) values[i] = float.NaN;
        for (int i = 5; i < values.Length; i += 89) values[i] = float.PositiveInfinity;
        for (int i = 11; i < values.Length; i += 13) values[i] = values[i] == 0 ? -0f : -values[i];
        var mask = MaskSelection.KeepPerRow(tensor(values, new long[] { 23, 1531 }), sparsity).reshape(-1).data<bool>().ToArray();
        int pruned = (int)Math.Round(sparsity * 1531, MidpointRounding.ToEven);
        static (bool, float) Rank(float v) => (float.IsNaN(v), float.IsNaN(v) || v == 0 ? 0 : v);
        for (int r = 0; r < 23; r++)
        {
            var removed = Enumerable.Range(0, 1531).OrderBy(c => Rank(values[r * 1531 + c])).ThenBy(c => c).Take(pruned).ToHashSet();
            for (int c = 0; c < 1531; c++) Assert.Equal(!removed.Contains(c), mask[r * 1531 + c]);
        }
    }

    [Fact]
    public void Magnitude_compares_over_the_whole_matrix_with_an_exact_count()
    {
        var (w, _) = LayerFixture.Make(3, 10, 24, 8);
        using var result = MagnitudePruning.Prune(w, SparsityPattern.Unstructured(0.55));
        var values = Values(w.abs());
        int pruned = (int)Math.Round(0.55 * 240, MidpointRounding.ToEven);
        var removed = Enumerable.Range(0, 240).OrderBy(i => values[i]).ThenBy(i => i).Take(pruned).ToHashSet();
        var mask = result.Mask.reshape(-1).data<bool>().ToArray();
        for (int i = 0; i < 240; i++) Assert.Equal(!removed.Contains(i), mask[i]);
        // The comparison group is the matrix, so rows lose different counts.
        Assert.True(result.Mask.sum(dim: 1).unique().Item1.numel() > 1);
    }

    public static TheoryData<string, int, int> Methods() => new()
    {
        { "magnitude", 2, 4 }, { "wanda", 2, 4 }, { "sparsegpt", 2, 4 }, { "wanda+dsnot", 2, 4 },
        { "magnitude", 4, 8 }, { "wanda", 4, 8 }, { "sparsegpt", 4, 8 }, { "wanda+dsnot", 4, 8 },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void NM_keeps_exactly_N_of_every_M_consecutive_inputs_of_each_row(string method, int n, int m)
    {
        var (w, x) = LayerFixture.Make(4, 16, 64, 256);
        using var statistics = new InputStatistics(64);
        statistics.Add(x);
        var pattern = SparsityPattern.NM(n, m);
        using var result = method switch
        {
            "magnitude" => LinearPruner.Prune(LinearPruningMethod.Magnitude, w, statistics, pattern),
            "wanda" => LinearPruner.Prune(LinearPruningMethod.Wanda, w, statistics, pattern),
            "sparsegpt" => LinearPruner.Prune(LinearPruningMethod.SparseGpt, w, statistics, pattern, new SparseGptOptions { BlockSize = 16 }),
            _ => LinearPruner.Prune(LinearPruningMethod.Wanda, w, statistics, pattern, dsnot: new DsnotOptions { UpdateThreshold = 0 }),
        };
        // Groups run along the input axis: [out, in/M, M].
        Assert.True(result.Mask.reshape(16, 64 / m, m).sum(dim: 2).eq(n).all().item<bool>());
        Assert.True(result.Weight.masked_select(result.Mask.logical_not()).eq(0).all().item<bool>());
        Assert.Equal(1 - (double)n / m, result.Sparsity, 12);
    }

    [Fact]
    public void Patterns_parse_from_the_flag_forms_and_reject_others()
    {
        Assert.Equal(SparsityPattern.NM(2, 4), SparsityPattern.Parse("2:4"));
        Assert.Equal(0.5, SparsityPattern.Parse("2:4").Sparsity);
        Assert.Equal(SparsityPattern.Unstructured(0.7), SparsityPattern.Parse("0.7"));
        Assert.Throws<FormatException>(() => SparsityPattern.Parse("4:2"));
        Assert.Throws<FormatException>(() => SparsityPattern.Parse("1.5"));
        Assert.Throws<FormatException>(() => SparsityPattern.Parse("half"));
        Assert.Contains("divide the input width", Assert.Throws<PruningException>(() => MagnitudePruning.Prune(ones(2, 6), SparsityPattern.NM(2, 4))).Message);
    }
}
