using static PruneSharp.Tests.Ops.OneNode;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ShapeOpsTests
{
    [Fact]
    public void Shape_gives_int64_dimensions_and_honours_start_and_end()
    {
        var x = zeros(2, 3, 4, 5);
        Same(Longs(2, 3, 4, 5), Run("Shape", x));
        Same(Longs(4, 5), Run("Shape", Attrs(("start", -2L)), x));
        Same(Longs(3, 4), Run("Shape", Attrs(("start", 1L), ("end", -1L)), x));
        Same(Longs(), Run("Shape", Attrs(("start", 9L)), x));
        Same(Longs(2, 3, 4, 5), Run("Shape", Attrs(("start", -9L), ("end", 9L)), x));
    }

    [Fact]
    public void Size_is_an_int64_scalar()
    {
        Same(tensor(60L), Run("Size", zeros(3, 4, 5)));
        Same(tensor(0L), Run("Size", zeros(3, 0)));
    }

    [Fact]
    public void Transpose_reverses_by_default_and_follows_perm()
    {
        var x = randn(2, 3, 4);
        var y = Run("Transpose", x);
        Assert.Equal(new long[] { 4, 3, 2 }, y.shape);
        var p = Run("Transpose", Attrs(("perm", new long[] { 1, 2, 0 })), x);
        Assert.Equal(new long[] { 3, 4, 2 }, p.shape);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                {
                    Assert.Equal(x[i, j, k].item<float>(), y[k, j, i].item<float>());
                    Assert.Equal(x[i, j, k].item<float>(), p[j, k, i].item<float>());
                }
        Assert.Contains("perm", Assert.ThrowsAny<Exception>(() => Run("Transpose", Attrs(("perm", new long[] { 0, 0, 1 })), x)).Message);
    }

    [Fact]
    public void Concat_joins_along_a_negative_axis()
    {
        var a = randn(2, 3);
        var b = randn(2, 1);
        var y = Run("Concat", Attrs(("axis", -1L)), a, b, a);
        Assert.Equal(new long[] { 2, 7 }, y.shape);
        for (int i = 0; i < 2; i++)
        {
            var row = new[] { a[i, 0], a[i, 1], a[i, 2], b[i, 0], a[i, 0], a[i, 1], a[i, 2] }.Select(t => t.item<float>());
            Assert.Equal(row, y[i].data<float>().ToArray());
        }
    }

    [Fact]
    public void Split_by_sizes_input_attribute_equal_parts_and_num_outputs()
    {
        var x = arange(14, ScalarType.Float32).reshape(2, 7);
        var parts = RunAll("Split", Attrs(("axis", 1L)), 13, 3, x, Longs(1, 2, 4));
        Same(x[.., ..1], parts[0]);
        Same(x[.., 1..3], parts[1]);
        Same(x[.., 3..], parts[2]);

        parts = RunAll("Split", Attrs(("axis", -1L), ("split", new long[] { 5, 2 })), 11, 2, x);
        Same(x[.., ..5], parts[0]);
        Same(x[.., 5..], parts[1]);

        var halves = RunAll("Split", null, 13, 2, x);
        Same(x[0..1], halves[0]);
        Same(x[1..2], RunAll("Split", null, 13, 2, x, Longs())[1]);
        Same(x[1..2], halves[1]);

        // From opset 18 num_outputs gives ceil(7 / 3) = 3 per part and a shorter last part.
        parts = RunAll("Split", Attrs(("axis", 1L), ("num_outputs", 3L)), 18, 3, x);
        Assert.Equal(new long[] { 3, 3, 1 }, parts.Select(p => p.shape[1]));
        Same(x[.., 6..], parts[2]);

        Assert.Contains("do not cut", Assert.ThrowsAny<Exception>(() => RunAll("Split", Attrs(("axis", 1L)), 13, 2, x, Longs(3, 3))).Message);
    }

    [Fact]
    public void Unsqueeze_and_Squeeze_take_axes_as_attribute_before_13_and_as_input_after()
    {
        var x = randn(3, 4);
        Assert.Equal(new long[] { 1, 3, 1, 4 }, RunAt(11, "Unsqueeze", Attrs(("axes", new long[] { 0, -2 })), x).shape);
        Assert.Equal(new long[] { 3, 4, 1 }, RunAt(13, "Unsqueeze", null, x, Longs(-1)).shape);
        Assert.Equal(new long[] { 1, 1, 3, 4 }, RunAt(13, "Unsqueeze", null, x, Longs(1, 0)).shape);
        Assert.Equal(new long[] { 1 }, RunAt(13, "Unsqueeze", null, tensor(2f), Longs(0)).shape);

        var y = randn(1, 3, 1, 4);
        Assert.Equal(new long[] { 3, 4 }, RunAt(13, "Squeeze", null, y).shape);
        Assert.Equal(new long[] { 1, 3, 4 }, RunAt(13, "Squeeze", null, y, Longs(-2)).shape);
        Assert.Equal(new long[] { 3, 1, 4 }, RunAt(11, "Squeeze", Attrs(("axes", new long[] { 0 })), y).shape);
        Same(y.flatten(), RunAt(13, "Squeeze", null, y).flatten());
        Assert.Contains("size 3", Assert.ThrowsAny<Exception>(() => RunAt(13, "Squeeze", null, y, Longs(1))).Message);
    }

    [Fact]
    public void Expand_broadcasts_in_both_directions()
    {
        var x = randn(3, 1);
        var y = Run("Expand", x, Longs(2, 1, 4));
        Assert.Equal(new long[] { 2, 3, 4 }, y.shape);
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                    Assert.Equal(x[i, 0].item<float>(), y[b, i, j].item<float>());
        Assert.Equal(new long[] { 3, 1 }, Run("Expand", x, Longs(1, 1)).shape);
        Assert.Equal(new long[] { 3, 5 }, Run("Expand", x, Longs(5)).shape);
        Assert.Contains("broadcast", Assert.ThrowsAny<Exception>(() => Run("Expand", x, Longs(2, 2))).Message);
    }

    [Fact]
    public void Tile_repeats_each_dimension()
    {
        var x = randn(2, 3);
        var y = Run("Tile", x, Longs(2, 3));
        Assert.Equal(new long[] { 4, 9 }, y.shape);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 9; j++)
                Assert.Equal(x[i % 2, j % 3].item<float>(), y[i, j].item<float>());
    }

    [Fact]
    public void ConstantOfShape_fills_with_the_value_attribute_default_float_zero()
    {
        Same(zeros(2, 3), Run("ConstantOfShape", Longs(2, 3)));
        Same(full(new long[] { 4 }, 7L, ScalarType.Int64), Run("ConstantOfShape", Attrs(("value", tensor(new long[] { 7 }))), Longs(4)));
        Same(tensor(1.5f), Run("ConstantOfShape", Attrs(("value", tensor(new[] { 1.5f }))), Longs()));
        Assert.Equal(new long[] { 0, 3 }, Run("ConstantOfShape", Longs(0, 3)).shape);
    }

    [Theory]
    [InlineData(0L, 10L, 3L, new long[] { 0, 3, 6, 9 })]
    [InlineData(10L, 4L, -2L, new long[] { 10, 8, 6 })]
    [InlineData(5L, 5L, 1L, new long[0])]
    [InlineData(5L, 1L, 1L, new long[0])]
    [InlineData(-3L, 3L, 2L, new long[] { -3, -1, 1 })]
    public void Range_of_integers(long start, long limit, long delta, long[] expected)
    {
        Same(tensor(expected, ScalarType.Int64), Run("Range", tensor(start), tensor(limit), tensor(delta)));
        Same(tensor(expected, ScalarType.Int64).to_type(ScalarType.Int32),
            Run("Range", tensor((int)start), tensor((int)limit), tensor((int)delta)));
    }

    [Fact]
    public void Range_of_floats_counts_ceil_of_span_over_delta()
    {
        var y = Run("Range", tensor(1f), tensor(2f), tensor(0.3f));
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.True(tensor(new[] { 1f, 1.3f, 1.6f, 1.9f }).allclose(y));
        Assert.Equal(0, Run("Range", tensor(1f), tensor(0f), tensor(0.5f)).numel());
    }

    [Fact]
    public void Shapes_computed_while_running_that_memory_cannot_hold_fail_naming_the_node_before_allocating()
    {
        var tooLarge = new Action[]
        {
            () => Run("ConstantOfShape", Longs(1_000_000, 1_000_000)),
            () => Run("Tile", zeros(2, 3), Longs(1_000_000_000, 1_000_000_000)),
            () => Run("Tile", zeros(2, 3), Longs(long.MaxValue / 2, 3)),
            () => Run("Range", tensor(0L), tensor(long.MaxValue), tensor(1L)),
            () => Run("Range", tensor(0f), tensor(1e30f), tensor(1f)),
            () => Run("Expand", zeros(1, 3), Longs(1_000_000_000, 1_000_000_000, 1)),
        };
        foreach (var run in tooLarge)
        {
            var error = Assert.Throws<PruneSharp.Engine.TensorTooLargeException>(run);
            Assert.Contains("node '", error.Message);
            Assert.Contains("of memory available", error.Message);
        }
        Assert.Contains("no finite count", Assert.ThrowsAny<Exception>(() => Run("Range", tensor(0f), tensor(float.PositiveInfinity), tensor(1f))).Message);
        Assert.Equal(new long[] { 1000, 1000 }, Run("ConstantOfShape", Longs(1000, 1000)).shape);
    }

    [Fact]
    public void Cast_truncates_floats_and_maps_non_zero_to_true()
    {
        var x = tensor(new[] { -1.7f, -0.2f, 0f, 2.9f });
        Same(tensor(new[] { -1, 0, 0, 2 }), Run("Cast", Attrs(("to", 6L)), x));
        Same(tensor(new[] { true, true, false, true }), Run("Cast", Attrs(("to", 9L)), x));
        Same(tensor(new[] { -1.7, -0.2, 0, 2.9 }).to_type(ScalarType.Float32).to_type(ScalarType.Float64), Run("Cast", Attrs(("to", 11L)), x));
        Same(tensor(new[] { 3L, 0L }), Run("CastLike", tensor(new[] { 3.5f, 0f }), tensor(new[] { 1L })));
        Assert.Contains("String", Assert.ThrowsAny<Exception>(() => Run("Cast", Attrs(("to", 8L)), x)).Message);
    }

    [Theory]
    [InlineData(1L, 0L)]
    [InlineData(1L, -1L)]
    [InlineData(1L, 2L)]
    [InlineData(0L, 0L)]
    [InlineData(0L, 1L)]
    [InlineData(0L, -2L)]
    public void Trilu_keeps_the_triangle_selected_by_upper_and_k(long upper, long k)
    {
        var x = randn(2, 4, 5);
        var y = Run("Trilu", Attrs(("upper", upper)), x, tensor(k));
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 5; j++)
                {
                    bool kept = upper == 1 ? j - i >= k : j - i <= k;
                    Assert.Equal(kept ? x[b, i, j].item<float>() : 0f, y[b, i, j].item<float>());
                }
        if (k == 0) Same(y, Run("Trilu", Attrs(("upper", upper)), x));
    }
}
