using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class PadTests
{
    /// <summary>Pads a 2-D tensor with loops: each output cell reads the source cell the mode maps it to.</summary>
    static Tensor Naive(Tensor x, long[] pads, string mode, float value = 0)
    {
        long h = x.shape[0], w = x.shape[1];
        long oh = h + pads[0] + pads[2], ow = w + pads[1] + pads[3];
        var src = x.data<float>().ToArray();
        var y = new float[oh * ow];
        for (long i = 0; i < oh; i++)
            for (long j = 0; j < ow; j++)
            {
                long r = Map(i - pads[0], h, mode), c = Map(j - pads[1], w, mode);
                y[i * ow + j] = r < 0 || c < 0 ? value : src[r * w + c];
            }
        return tensor(y).reshape(oh, ow);
    }

    static long Map(long k, long n, string mode)
    {
        switch (mode)
        {
            case "constant": return k >= 0 && k < n ? k : -1;
            case "edge": return Math.Min(Math.Max(k, 0), n - 1);
            case "wrap": while (k < 0) k += n; return k % n;
            default:
                // Reflect step by step, as one would by hand.
                while (k < 0 || k >= n) k = k < 0 ? -k : 2 * (n - 1) - k;
                return k;
        }
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("reflect")]
    [InlineData("edge")]
    [InlineData("wrap")]
    public void Pad_modes_match_the_naive_loops(string mode)
    {
        manual_seed(1);
        var x = randn(4, 5);
        long[] pads = { 2, 1, 3, 6 };
        var y = Run("Pad", new[] { x, tensor(pads), tensor(1.5f) }, Attrs(("mode", mode)), opset: 19, constants: new[] { 1 })[0];
        AssertClose(Naive(x, pads, mode, 1.5f), y, 0, 0);
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("edge")]
    public void Pad_with_negative_amounts_crops(string mode)
    {
        var x = arange(20f).reshape(4, 5);
        var y = Run("Pad", new[] { x, tensor(new long[] { -1, 2, 0, -2 }) }, Attrs(("mode", mode)), opset: 13)[0];
        var cropped = x.narrow(0, 1, 3).narrow(1, 0, 3);
        AssertClose(Naive(cropped.contiguous(), new long[] { 0, 2, 0, 0 }, mode), y, 0, 0);
    }

    [Fact]
    public void Pad_axes_input_limits_the_amounts_to_some_axes()
    {
        var x = randn(2, 3, 4);
        var y = Run("Pad", new[] { x, tensor(new long[] { 1, 2 }), null, tensor(new long[] { -1 }) }, opset: 18, constants: new[] { 1, 3 })[0];
        AssertClose(nn.functional.pad(x, new long[] { 1, 2 }), y, 0, 0);
    }

    [Fact]
    public void Pad_before_opset_11_reads_attributes()
    {
        var x = randn(3, 3);
        var y = Run("Pad", new[] { x }, Attrs(("pads", new long[] { 1, 0, 0, 2 }), ("value", 2f)), opset: 10)[0];
        AssertClose(Naive(x, new long[] { 1, 0, 0, 2 }, "constant", 2f), y, 0, 0);
    }
}
