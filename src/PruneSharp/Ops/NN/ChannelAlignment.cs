using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// Works around a defect of libtorch 2.10's CPU convolution (oneDNN 3.7 blocked kernels): the forward pass of a
/// convolution whose input has more than 16 channels, not a multiple of 16, and no grouping returns wrong values on
/// AVX2/AVX-512 machines (errors of 10–40 %; seen with 17, 24, 29, 30, 33, 60 channels, while 1–16, 32, 48 and 64
/// are exact; the backward pass is exact). Pruned models have such widths all the time, so ungrouped convolutions
/// pad their input channels with zeros (and the weight with zero slices) up to the next multiple of 16, which gives
/// the exact result. The backward pass to the input (a transposed convolution over the output channels) has the same
/// defect for output widths that are not a multiple of 16 (NaN or errors of the order of the values, changing from
/// run to run, seen with 1, 2, 4, 8, 12, 15, 17, 24 and 31 output channels), so when the input needs a gradient the
/// weight and bias are padded with zero filters to a multiple of 16 output channels and the output is cut back.
/// Covered by <c>ConvTests</c> against float64.
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

    /// <summary>
    /// Weight (output axis 0) and bias padded with zero filters to a multiple of 16 outputs when the input needs a
    /// gradient; <c>Outputs</c> is the true output count, to cut the result back to (null when nothing was padded).
    /// </summary>
    public static (Tensor Weight, Tensor? Bias, long? Outputs) AlignOutputs(Tensor input, Tensor weight, Tensor? bias, long groups)
    {
        long outputs = weight.shape[0];
        if (groups != 1 || !input.requires_grad || outputs % Block == 0 || input.dtype != ScalarType.Float32) return (weight, bias, null);
        long extra = Block - outputs % Block;
        return (PadAxis(weight, 0, extra), bias is null ? null : PadAxis(bias, 0, extra), outputs);
    }

    static Tensor PadAxis(Tensor t, int axis, long extra)
    {
        // torch's pad lists (begin, end) pairs from the last dimension backwards.
        var pads = new long[2 * (t.dim() - axis)];
        pads[^1] = extra;
        return nn.functional.pad(t, pads);
    }
}
