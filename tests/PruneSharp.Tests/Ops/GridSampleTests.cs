using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class GridSampleTests
{
    /// <summary>Normalised grid (align_corners=1) for pixel positions (x, y).</summary>
    static Tensor Grid(double[] xs, double[] ys, long w, long h) =>
        stack(new[] { tensor(xs.Select(x => (float)(2 * x / (w - 1) - 1)).ToArray()), tensor(ys.Select(y => (float)(2 * y / (h - 1) - 1)).ToArray()) }, 1)
            .reshape(1, 1, xs.Length, 2);

    [Theory]
    [InlineData("zeros")]
    [InlineData("border")]
    [InlineData("reflection")]
    public void Bicubic_reproduces_a_linear_ramp_halfway_and_pixels_on_the_grid(string padding)
    {
        var ramp = (arange(6f).reshape(1, -1) * 2 + arange(5f).reshape(-1, 1) * 3).reshape(1, 1, 5, 6);
        var attributes = Attrs(("mode", "bicubic"), ("padding_mode", padding), ("align_corners", 1L));
        // Halfway between pixels, away from the border, the symmetric kernel is exact for linear functions.
        double[] xs = { 1.5, 2.5, 3.5, 2.5 }, ys = { 1.5, 2.5, 1.5, 2.0 };
        var inside = Run("GridSample", new[] { ramp, Grid(xs, ys, 6, 5) }, attributes, opset: 16)[0];
        AssertClose(tensor(xs.Zip(ys, (x, y) => (float)(2 * x + 3 * y)).ToArray()).reshape(1, 1, 1, 4), inside, 1e-5, 1e-5);
        // On pixel centres the kernel interpolates: the pixel itself, corners included.
        double[] px = { 0, 5, 3, 0 }, py = { 0, 4, 2, 4 };
        var onGrid = Run("GridSample", new[] { ramp, Grid(px, py, 6, 5) }, attributes, opset: 16)[0];
        AssertClose(tensor(px.Zip(py, (x, y) => (float)(2 * x + 3 * y)).ToArray()).reshape(1, 1, 1, 4), onGrid, 1e-5, 1e-5);
    }

    [Fact]
    public void Bilinear_matches_torch_grid_sample()
    {
        manual_seed(1);
        var x = randn(2, 3, 5, 4);
        var grid = rand(2, 3, 2, 2) * 2.4 - 1.2;
        var y = Run("GridSample", new[] { x, grid }, Attrs(("padding_mode", "border")), opset: 16)[0];
        AssertClose(nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, false), y);
    }
}
