using PruneSharp.Pruning.Allocation;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

public class ExactSelectionTests
{
    static bool[] Reference(float[] scores, long k)
    {
        // Naive reference: stable sort by (score, index), remove the first k.
        var keep = Enumerable.Repeat(true, scores.Length).ToArray();
        foreach (int i in Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenBy(i => i).Take((int)k)) keep[i] = false;
        return keep;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.37)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    [InlineData(1.0)]
    public void Removes_exactly_k_lowest_with_index_tie_break_across_large_tensors(double fraction)
    {
        manual_seed(21);
        // Large enough for the sampled bracket, with heavy ties (three decimals) and a block of −∞ (pruned units).
        var a = randn(300_000).mul(1000).round().div(1000);
        var b = randn(70_000).abs().mul(100).round().div(100);
        b[TensorIndex.Slice(0, 5000)] = tensor(float.NegativeInfinity);
        var c = randn(10);
        var all = TestModels.Values(cat(new[] { a, b, c }));
        long k = (long)Math.Round(fraction * all.Length);
        var keeps = ExactSelection.KeepAllButLowestAcross(new[] { a, b, c }, k);
        var actual = keeps.SelectMany(t => t.data<bool>().ToArray()).ToArray();
        Assert.Equal(Reference(all, k), actual);
    }

    [Fact]
    public void Small_inputs_and_all_equal_scores()
    {
        var same = full(17, 2.5f);
        Assert.Equal(Reference(TestModels.Values(same), 5), ExactSelection.KeepAllButLowest(same, 5).data<bool>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => ExactSelection.KeepAllButLowest(same, 18));
        Assert.Equal(2, ExactSelection.PrunedCount(0.5, 5));   // 2.5 rounds to even
        Assert.Equal(4, ExactSelection.PrunedCount(0.5, 7));   // 3.5 rounds to even
    }
}
