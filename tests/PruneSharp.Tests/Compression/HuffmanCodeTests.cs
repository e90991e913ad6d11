using PruneSharp.Compression;

namespace PruneSharp.Tests.Compression;

public class HuffmanCodeTests
{
    static int[] RoundTrip(HuffmanCode code, int[] symbols)
    {
        var writer = new BitWriter();
        foreach (int s in symbols) code.Encode(s, writer);
        var bytes = writer.ToArray();
        var reader = new BitReader(bytes, writer.BitCount);
        var decoded = new int[symbols.Length];
        for (int i = 0; i < decoded.Length; i++) decoded[i] = code.Decode(ref reader) ?? throw new Xunit.Sdk.XunitException($"stream ended at symbol {i}");
        Assert.Equal(0, reader.Remaining);
        return decoded;
    }

    /// <summary>Cost of an optimal prefix code by the textbook method: the sum of all merged weights.</summary>
    static long NaiveOptimalBits(long[] frequencies)
    {
        var weights = frequencies.Where(f => f > 0).ToList();
        if (weights.Count == 1) return weights[0];
        long cost = 0;
        while (weights.Count > 1)
        {
            weights.Sort();
            long merged = weights[0] + weights[1];
            cost += merged;
            weights.RemoveRange(0, 2);
            weights.Add(merged);
        }
        return cost;
    }

    [Fact]
    public void Random_streams_decode_to_what_was_encoded_with_an_optimal_length()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int alphabet = random.Next(1, 300);
            int count = random.Next(1, 3000);
            // Skewed draws so that code lengths differ widely.
            var symbols = Enumerable.Range(0, count).Select(_ => (int)(alphabet * Math.Pow(random.NextDouble(), 1 + random.Next(6)))).ToArray();
            var frequencies = new long[alphabet];
            foreach (int s in symbols) frequencies[s]++;
            var code = HuffmanCode.FromFrequencies(frequencies);
            Assert.Equal(symbols, RoundTrip(code, symbols));
            if (code.Lengths.Max() < HuffmanCode.MaxLength)
                Assert.Equal(NaiveOptimalBits(frequencies), code.EncodedBits(frequencies));
            // The lengths alone rebuild the same code (what the file stores).
            Assert.Equal(symbols, RoundTrip(HuffmanCode.FromLengths(code.Lengths.ToArray()), symbols));
        }
    }

    [Fact]
    public void A_single_symbol_gets_one_bit_and_round_trips()
    {
        var code = HuffmanCode.FromFrequencies(new long[] { 0, 0, 5, 0 });
        Assert.Equal(new byte[] { 0, 0, 1, 0 }, code.Lengths);
        Assert.Equal(new[] { 2, 2, 2, 2, 2 }, RoundTrip(code, new[] { 2, 2, 2, 2, 2 }));
    }

    [Fact]
    public void Fibonacci_frequencies_are_limited_to_the_maximum_length_and_still_round_trip()
    {
        // Fibonacci counts make the optimal tree as deep as there are symbols (here 40 > 24).
        var frequencies = new long[40];
        frequencies[0] = frequencies[1] = 1;
        for (int i = 2; i < frequencies.Length; i++) frequencies[i] = frequencies[i - 1] + frequencies[i - 2];
        var code = HuffmanCode.FromFrequencies(frequencies);
        Assert.True(code.Lengths.Max() <= HuffmanCode.MaxLength);
        Assert.All(code.Lengths, l => Assert.True(l > 0));
        var symbols = Enumerable.Range(0, 40).Concat(new[] { 39, 38, 0, 1 }).ToArray();
        Assert.Equal(symbols, RoundTrip(code, symbols));
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 1 }, "Kraft sum")] // over-subscribed: not a prefix code
    [InlineData(new byte[] { 1, 2 }, "unused")] // incomplete
    [InlineData(new byte[] { 1, 25, 25 }, "limit")]
    [InlineData(new byte[] { 2, 0 }, "unused")] // a lone symbol must have length 1
    public void Invalid_code_lengths_are_refused(byte[] lengths, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => HuffmanCode.FromLengths(lengths));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
    }
}
