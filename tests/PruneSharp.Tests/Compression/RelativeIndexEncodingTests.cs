using PruneSharp.Compression;

namespace PruneSharp.Tests.Compression;

public class RelativeIndexEncodingTests
{
    static int[] Layer(int length, params (int Position, int Cluster)[] kept)
    {
        var assignments = Enumerable.Repeat(WeightClusters.Pruned, length).ToArray();
        foreach (var (p, c) in kept) assignments[p] = c;
        return assignments;
    }

    [Fact]
    public void A_gap_of_exactly_the_index_width_needs_no_padding_and_one_more_zero_needs_one()
    {
        // 3 bits: gaps up to 7 fit.
        var (gaps, symbols) = RelativeIndexEncoding.Encode(Layer(20, (7, 2)), 3);
        Assert.Equal(new[] { 7 }, gaps);
        Assert.Equal(new[] { 3 }, symbols);
        (gaps, symbols) = RelativeIndexEncoding.Encode(Layer(20, (8, 2)), 3);
        Assert.Equal(new[] { 7, 0 }, gaps); // padding entry at position 7, then the weight right after it
        Assert.Equal(new[] { RelativeIndexEncoding.Padding, 3 }, symbols);
    }

    [Fact]
    public void Long_gaps_are_split_by_padding_entries_and_decode_back()
    {
        var layer = Layer(6000, (0, 1), (100, 0), (101, 4), (5000, 3));
        var (gaps, symbols) = RelativeIndexEncoding.Encode(layer, 3);
        // Zeros before each weight: 0, 99, 0, 4898; one padding entry per 8 zeros (7 skipped + the stored zero).
        int expectedPadding = 0 / 8 + 99 / 8 + 0 / 8 + 4898 / 8;
        Assert.Equal(expectedPadding, symbols.Count(s => s == RelativeIndexEncoding.Padding));
        Assert.Equal(4 + expectedPadding, gaps.Length);
        Assert.All(gaps, g => Assert.InRange(g, 0, 7));
        Assert.Equal(layer, RelativeIndexEncoding.Decode(gaps, symbols, layer.Length, 3, out var error));
        Assert.Null(error);
    }

    [Fact]
    public void Random_sparse_layers_round_trip_at_every_width()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 100; trial++)
        {
            int length = random.Next(0, 2000);
            double density = random.NextDouble() * random.NextDouble();
            var layer = Enumerable.Range(0, length).Select(_ => random.NextDouble() < density ? random.Next(0, 32) : WeightClusters.Pruned).ToArray();
            int bits = random.Next(1, 9);
            var (gaps, symbols) = RelativeIndexEncoding.Encode(layer, bits);
            Assert.Equal(layer, RelativeIndexEncoding.Decode(gaps, symbols, length, bits, out _));
        }
    }

    [Fact]
    public void Entries_beyond_the_layer_or_wider_than_the_index_are_refused()
    {
        Assert.Null(RelativeIndexEncoding.Decode(new[] { 5 }, new[] { 1 }, 5, 3, out var beyond));
        Assert.Contains("beyond", beyond);
        Assert.Null(RelativeIndexEncoding.Decode(new[] { 9 }, new[] { 1 }, 50, 3, out var wide));
        Assert.Contains("wider", wide);
    }
}
