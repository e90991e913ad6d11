using PruneSharp.Graph;
using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ResizeTests
{
    static Tensor Resize(Tensor x, Tensor? scales, Tensor? sizes, int opset = 13, params (string, object)[] attributes) =>
        Run("Resize", new[] { x, null, scales, sizes }, Attrs(attributes), opset: opset)[0];

    [Fact]
    public void Scales_or_sizes_that_memory_cannot_hold_fail_naming_the_node_before_allocating()
    {
        var x = zeros(1, 1, 2, 2);
        foreach (var run in new Func<Tensor>[]
        {
            () => Resize(x, tensor(new[] { 1f, 1f, 1e6f, 1e6f }), null),
            () => Resize(x, null, tensor(new long[] { 1, 1, 1_000_000, 1_000_000 })),
        })
            Assert.Contains("of memory available", Assert.Throws<PruneSharp.Engine.TensorTooLargeException>(() => run()).Message);
        Assert.Equal(new long[] { 1, 1, 4, 4 }, Resize(x, tensor(new[] { 1f, 1f, 2f, 2f }), null).shape);
    }

    [Fact]
    public void Nearest_asymmetric_floor_matches_torch_nearest()
    {
        manual_seed(1);
        var x = randn(2, 3, 4, 5);
        var y = Resize(x, null, tensor(new long[] { 2, 3, 8, 15 }), 13, ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));
        AssertClose(nn.functional.interpolate(x, new long[] { 8, 15 }, mode: InterpolationMode.Nearest), y, 0, 0);
    }

    [Theory]
    [InlineData("half_pixel", false)]
    [InlineData("align_corners", true)]
    public void Linear_matches_torch_bilinear(string transform, bool alignCorners)
    {
        manual_seed(2);
        var x = randn(1, 2, 5, 4);
        foreach (long[] size in new[] { new long[] { 9, 7 }, new long[] { 3, 2 } })
        {
            var y = Resize(x, null, tensor(new long[] { 1, 2, size[0], size[1] }), 13, ("mode", "linear"), ("coordinate_transformation_mode", transform));
            AssertClose(nn.functional.interpolate(x, size, mode: InterpolationMode.Bilinear, align_corners: alignCorners), y, 1e-5, 1e-5);
        }
    }

    [Fact]
    public void Cubic_half_pixel_matches_torch_bicubic()
    {
        manual_seed(3);
        var x = randn(1, 1, 6, 5);
        var y = Resize(x, tensor(new float[] { 1, 1, 2, 1.5f }), null, 13, ("mode", "cubic"));
        // torch uses the given factors (not output/input) for coordinates when it is passed them.
        AssertClose(nn.functional.interpolate(x, scale_factor: new double[] { 2, 1.5 }, mode: InterpolationMode.Bicubic, align_corners: false), y, 1e-4, 1e-5);
    }

    [Theory]
    [InlineData("round_prefer_floor", new float[] { 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2 })]
    [InlineData("round_prefer_ceil", new float[] { 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2 })]
    [InlineData("floor", new float[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 })]
    [InlineData("ceil", new float[] { 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2 })]
    public void Nearest_modes_round_the_source_coordinate_as_named(string nearestMode, float[] expected)
    {
        // asymmetric, scale 4 on 3 values: source coordinates 0, 0.25, 0.5, ... 2.75 (clamped to the last index).
        var x = arange(3f).reshape(1, 1, 3);
        var y = Resize(x, tensor(new float[] { 1, 1, 4 }), null, 13, ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", nearestMode));
        AssertClose(tensor(expected).reshape(1, 1, 12), y, 0, 0);
    }

    [Fact]
    public void Tf_crop_and_resize_uses_the_roi_and_the_extrapolation_value_outside_the_input()
    {
        var x = arange(5f).reshape(1, 1, 5);
        var roi = tensor(new float[] { 0, 0, 0.4f, 1, 1, 1.2f });
        var y = Run("Resize", new[] { x, roi, null, tensor(new long[] { 1, 1, 3 }) },
            Attrs(("mode", "linear"), ("coordinate_transformation_mode", "tf_crop_and_resize"), ("extrapolation_value", 10f)), opset: 13)[0];
        // Source coordinates 1.6, 3.2 and 4.8 (past the last index 4).
        AssertClose(tensor(new float[] { 1.6f, 3.2f, 10f }).reshape(1, 1, 3), y, 1e-5, 1e-5);
    }

    [Fact]
    public void Keep_aspect_ratio_not_larger_scales_all_axes_alike()
    {
        var x = randn(1, 1, 4, 6);
        var y = Run("Resize", new[] { x, null, null, tensor(new long[] { 8, 8 }) },
            Attrs(("axes", new long[] { 2, 3 }), ("keep_aspect_ratio_policy", "not_larger")), opset: 18)[0];
        Assert.Equal(new long[] { 1, 1, 5, 8 }, y.shape);
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("cubic")]
    public void Antialias_downscale_with_excluded_outside_taps_matches_torch_antialias(string mode)
    {
        manual_seed(4);
        var x = randn(1, 2, 12, 10);
        // torch's antialiased filters drop taps outside the input and use a = -0.5 for cubic.
        var y = Run("Resize", new[] { x, null, null, tensor(new long[] { 5, 4 }) },
            Attrs(("mode", mode), ("antialias", 1L), ("exclude_outside", 1L), ("cubic_coeff_a", -0.5f), ("axes", new long[] { 2, 3 })), opset: 18)[0];
        var expected = nn.functional.interpolate(x, new long[] { 5, 4 }, mode: mode == "linear" ? InterpolationMode.Bilinear : InterpolationMode.Bicubic,
            align_corners: false, antialias: true);
        AssertClose(expected, y, 1e-4, 1e-5);
    }

    [Fact]
    public void Unknown_modes_are_rejected_when_the_graph_is_built()
    {
        var e = Assert.ThrowsAny<GraphException>(() => Run("Resize", new[] { randn(1, 1, 4, 4), null, tensor(new float[] { 1, 1, 0.5f, 0.5f }) },
            Attrs(("mode", "area")), opset: 18));
        Assert.Contains("mode 'area'", e.Message);
        Assert.Contains("'node'", e.Message);
    }
}
