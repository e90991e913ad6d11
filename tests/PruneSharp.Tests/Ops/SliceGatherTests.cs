using static PruneSharp.Tests.Ops.OneNode;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class SliceGatherTests
{
    /// <summary>The indices ONNX Slice picks from a dimension of size n, by walking from the clamped start.</summary>
    static List<long> NaiveSlice(long n, long start, long end, long step)
    {
        if (start < 0) start += n;
        if (end < 0) end += n;
        var picked = new List<long>();
        if (n == 0) return picked;
        if (step > 0)
        {
            for (long i = Math.Clamp(start, 0, n); i < Math.Clamp(end, 0, n); i += step) picked.Add(i);
        }
        else
        {
            for (long i = Math.Clamp(start, 0, n - 1); i > Math.Clamp(end, -1, n - 1); i += step) picked.Add(i);
        }
        return picked;
    }

    [Fact]
    public void Slice_matches_a_naive_walk_for_random_bounds_and_steps()
    {
        var random = new Random(5);
        long[] special = { long.MinValue, long.MaxValue, int.MaxValue, -int.MaxValue };
        long Bound(long n) => random.Next(5) == 0 ? special[random.Next(special.Length)] : random.Next(-(int)n - 3, (int)n + 4);
        for (int trial = 0; trial < 150; trial++)
        {
            long n = random.Next(0, 7);
            long start = Bound(n), end = Bound(n);
            long step = random.Next(1, 4) * (random.Next(2) == 0 ? 1 : -1);
            var x = arange(2 * n, ScalarType.Float32).reshape(2, n);
            var y = Run("Slice", x, Longs(start), Longs(end), Longs(-1), Longs(step));
            var expected = NaiveSlice(n, start, end, step);
            Assert.Equal(new long[] { 2, expected.Count }, y.shape);
            Assert.Equal(expected.Select(i => (float)i), y[0].data<float>().ToArray());
        }
    }

    [Fact]
    public void Slice_with_several_axes_defaults_and_old_attribute_form()
    {
        var x = randn(4, 5, 6);
        Same(x[1..3, .., 2..], Run("Slice", x, Longs(1, 2), Longs(3, 100), Longs(0, 2)));
        Same(x[1..3, 2..], Run("Slice", x, Longs(1, 2), Longs(3, 100)));
        Same(x[.., 1..4], RunAt(9, "Slice", Attrs(("starts", new long[] { 1 }), ("ends", new long[] { -1 }), ("axes", new long[] { 1 })), x));
        Assert.Contains("step", Assert.ThrowsAny<Exception>(() => Run("Slice", x, Longs(0), Longs(1), Longs(0), Longs(0))).Message);
    }

    [Fact]
    public void Gather_replaces_the_axis_by_the_indices_shape_and_counts_negative_indices_from_the_end()
    {
        var x = randn(3, 4, 2);
        long[,] idx = { { 0, -1, 2 }, { 3, -4, 1 } };
        var y = Run("Gather", Attrs(("axis", 1L)), x, tensor(idx));
        Assert.Equal(new long[] { 3, 2, 3, 2 }, y.shape);
        for (int a = 0; a < 3; a++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    for (int c = 0; c < 2; c++)
                        Assert.Equal(x[a, (idx[i, j] + 4) % 4, c].item<float>(), y[a, i, j, c].item<float>());
        Same(x[.., 2], Run("Gather", Attrs(("axis", -2L)), x, tensor(2L)));
        Same(x[1], Run("Gather", x, tensor(new[] { 1 })).squeeze(0));
        Assert.Contains("out of range", Assert.ThrowsAny<Exception>(() => Run("Gather", Attrs(("axis", 1L)), x, tensor(4L))).Message);
    }

    [Fact]
    public void GatherElements_picks_single_elements_along_the_axis()
    {
        var x = randn(3, 4);
        long[,] idx = { { 0, -1 }, { 3, 2 }, { 1, 1 } };
        var y = Run("GatherElements", Attrs(("axis", 1L)), x, tensor(idx));
        Assert.Equal(new long[] { 3, 2 }, y.shape);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                Assert.Equal(x[i, (idx[i, j] + 4) % 4].item<float>(), y[i, j].item<float>());
    }

    [Fact]
    public void Same_detects_a_difference()
    {
        Assert.False(tensor(new[] { 1, 2 }).Equals(tensor(new[] { 1, 3 })));
        Assert.True(tensor(new[] { 1, 2 }).Equals(tensor(new[] { 1, 2 })));
    }
}
