using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ConvTransposeTests
{
    /// <summary>
    /// Transposed convolution by scattering: input (i, j) adds x·w[k, l] to output (i·s + k·d − pad_begin, ...);
    /// the output size is the one ONNX states, or <paramref name="outputSize"/>.
    /// </summary>
    static Tensor Naive(Tensor x, Tensor w, Tensor? b, long groups, long[] s, long[] d, long[] padBegin, long[] outputSize)
    {
        long n = x.shape[0], cin = x.shape[1], h = x.shape[2], wd = x.shape[3];
        long coutPerGroup = w.shape[1], kh = w.shape[2], kw = w.shape[3];
        long cinPerGroup = cin / groups;
        var xs = x.to_type(ScalarType.Float64).data<double>().ToArray();
        var ws = w.to_type(ScalarType.Float64).data<double>().ToArray();
        long oh = outputSize[0], ow = outputSize[1], cout = coutPerGroup * groups;
        var y = new double[n * cout * oh * ow];
        for (long bi = 0; bi < n; bi++)
            for (long ic = 0; ic < cin; ic++)
                for (long i = 0; i < h; i++)
                    for (long j = 0; j < wd; j++)
                        for (long oc = 0; oc < coutPerGroup; oc++)
                            for (long k = 0; k < kh; k++)
                                for (long l = 0; l < kw; l++)
                                {
                                    long r = i * s[0] + k * d[0] - padBegin[0], c = j * s[1] + l * d[1] - padBegin[1];
                                    if (r < 0 || r >= oh || c < 0 || c >= ow) continue;
                                    long channel = ic / cinPerGroup * coutPerGroup + oc;
                                    y[((bi * cout + channel) * oh + r) * ow + c] += xs[((bi * cin + ic) * h + i) * wd + j] * ws[((ic * coutPerGroup + oc) * kh + k) * kw + l];
                                }
        var result = tensor(y).reshape(n, cout, oh, ow);
        return b is null ? result : result + b.to_type(ScalarType.Float64).reshape(-1, 1, 1);
    }

    static long Size(long input, long s, long k, long d, long extra, long begin, long end) => s * (input - 1) + extra + (k - 1) * d + 1 - begin - end;

    [Fact]
    public void ConvTranspose_with_symmetric_pads_matches_torch()
    {
        manual_seed(1);
        var x = randn(2, 4, 5, 5);
        var w = randn(4, 3, 3, 3);
        var b = randn(3);
        var y = Run("ConvTranspose", new[] { x, w, b }, Attrs(("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }), ("output_padding", new long[] { 1, 1 })), constants: new[] { 1, 2 })[0];
        AssertClose(nn.functional.conv_transpose2d(x, w, b, new long[] { 2, 2 }, new long[] { 1, 1 }, new long[] { 1, 1 }), y, 1e-4, 1e-5);
    }

    [Fact]
    public void ConvTranspose_groups_asymmetric_pads_dilations_and_large_output_padding_match_the_scatter_loops()
    {
        manual_seed(2);
        var x = randn(1, 4, 4, 3);
        var w = randn(4, 2, 2, 3);
        var b = randn(4);
        long[] s = { 2, 3 }, d = { 1, 2 }, pads = { 0, 2, 1, 0 }, extra = { 1, 4 };
        var y = Run("ConvTranspose", new[] { x, w, b }, Attrs(("group", 2L), ("strides", s), ("dilations", d), ("pads", pads), ("output_padding", extra)), constants: new[] { 1, 2 })[0];
        long[] size = { Size(4, 2, 2, 1, 1, 0, 1), Size(3, 3, 3, 2, 4, 2, 0) };
        AssertClose(Naive(x, w, b, 2, s, d, new long[] { 0, 2 }, size), y, 1e-4, 1e-5);
    }

    [Theory]
    [InlineData("NOTSET")]
    [InlineData("SAME_UPPER")]
    public void ConvTranspose_output_shape_places_the_odd_pad_as_the_spec_says(string autoPad)
    {
        manual_seed(3);
        var x = randn(1, 2, 3, 3);
        var w = randn(2, 2, 3, 3);
        long[] s = { 2, 2 }, one = { 1, 1 };
        var y = Run("ConvTranspose", new[] { x, w }, Attrs(("strides", s), ("output_shape", new long[] { 6, 5 }), ("auto_pad", autoPad)), constants: new[] { 1 })[0];
        // Full size 7: total padding 1 (rows), 2 (columns); SAME_UPPER puts the odd one at the end, otherwise at the start.
        long[] begin = autoPad == "SAME_UPPER" ? new long[] { 0, 1 } : new long[] { 1, 1 };
        AssertClose(Naive(x, w, null, 1, s, one, begin, new long[] { 6, 5 }), y, 1e-4, 1e-5);
    }

    [Fact]
    public void ConvTranspose_auto_pad_same_lower_multiplies_the_input_size_by_the_stride()
    {
        manual_seed(4);
        var x = randn(1, 2, 3, 4);
        var w = randn(2, 1, 4, 4);
        var y = Run("ConvTranspose", new[] { x, w }, Attrs(("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_LOWER")), constants: new[] { 1 })[0];
        // Full sizes 8 and 10, targets 6 and 8: total 2 each, split evenly.
        AssertClose(Naive(x, w, null, 1, new long[] { 2, 2 }, new long[] { 1, 1 }, new long[] { 1, 1 }, new long[] { 6, 8 }), y, 1e-4, 1e-5);
    }

    [Fact]
    public void ConvTranspose_output_shape_past_the_full_output_extends_it_at_the_end()
    {
        manual_seed(5);
        var x = randn(1, 1, 3, 3);
        var w = randn(1, 2, 3, 3);
        long[] s = { 3, 2 };
        var y = Run("ConvTranspose", new[] { x, w }, Attrs(("strides", s), ("output_shape", new long[] { 10, 8 })), constants: new[] { 1 })[0];
        // Full sizes 9 and 7: total padding -1, whose halves round down, so nothing moves at the start.
        AssertClose(Naive(x, w, null, 1, s, new long[] { 1, 1 }, new long[] { 0, 0 }, new long[] { 10, 8 }), y, 1e-4, 1e-5);
    }
}
