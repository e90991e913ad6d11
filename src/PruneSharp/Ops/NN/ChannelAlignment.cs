using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// Works around a defect of libtorch 2.10's CPU convolution (oneDNN 3.7 blocked kernels): the forward pass of a
/// convolution whose input has more than 16 channels, not a multiple of 16, and no grouping returns wrong values on
/// AVX2/AVX-512 machines (errors of 10–40 %; seen with 17, 24, 29, 30, 33, 60 channels, while 1–16, 32, 48 and 64
/// are exact; the backward pass is exact). Pruned models have such widths all the time, so ungrouped convolutions
/// pad their input channels with zeros (and the weight with zero slices) up to the next multiple of 16, which gives
/// the exact result. Covered by <c>ConvTests</c> against float64.
/// </summary>
static class ChannelAlignment
{
    const long Block = 16;

    /// <summary>Input and weight padded along the channel axes (input axis 1, weight axis <paramref name="weightAxis"/>) when needed.</summary>
    public static (Tensor Input, Tensor Weight) Align(Tensor input, Tensor weight, int weightAxis, long groups)
    {
        long channels = input.shape[1];
        if (groups != 1 || channels <= Block || channels % Block == 0 || input.dtype != ScalarType.Float32) return (input, weight);
        long extra = Block - channels % Block;
        return (PadAxis(input, 1, extra), PadAxis(weight, weightAxis, extra));
    }

    static Tensor PadAxis(Tensor t, int axis, long extra)
    {
        // torch's pad lists (begin, end) pairs from the last dimension backwards.
        var pads = new long[2 * (t.dim() - axis)];
        pads[^1] = extra;
        return nn.functional.pad(t, pads);
    }
}
