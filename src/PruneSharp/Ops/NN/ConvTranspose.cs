using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>ConvTranspose</c> over 1, 2 or 3 spatial dimensions: groups, strides, dilations, pads (asymmetric too),
/// output_padding, output_shape and auto_pad. The full transposed convolution is computed without padding and
/// then cropped (or extended with zeros, where output_padding or output_shape reach past it) to the ONNX output
/// window, so every combination follows the operator's shape equations exactly.
/// </summary>
public sealed class ConvTranspose : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "ConvTranspose" };

    /// <inheritdoc />
    /// <remarks>Ungrouped: input channels are read through weight axis 0, output channels (weight axis 1, bias) form a new space.</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        string weight = node.Inputs[1];
        string? bias = node.InputOrNull(2);
        if (node.GetInt("group", 1) != 1 || !flow.IsWeight(weight) || (bias != null && !flow.IsWeight(bias)) || flow.Input(1) != null)
        {
            if (flow.Input(0) != null || flow.Input(1) != null) flow.Block("grouped or computed-weight transposed convolution");
            return;
        }
        if (flow.Input(0) is { } input)
        {
            if (input.Axis != 1) { flow.Block("channels on an axis other than 1"); return; }
            flow.Member(weight, 0, input.Labels, WeightRole.Reads);
        }
        var outputs = flow.NewSpace((int)flow.Shape(weight)![1]);
        flow.Member(weight, 1, outputs, WeightRole.Produces);
        if (bias != null) flow.Member(bias, 0, outputs, WeightRole.PerChannel);
        flow.SetOutput(0, 1, outputs);
    }

    /// <inheritdoc />
    public override IReadOnlySet<string> UnreadAttributes { get; } = new HashSet<string> { "kernel_shape" }; // the weight's shape gives it

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long groups = node.GetInt("group", 1);
        IReadOnlyList<long>? strides = node.GetInts("strides"), dilations = node.GetInts("dilations"), pads = node.GetInts("pads");
        IReadOnlyList<long>? outputPadding = node.GetInts("output_padding"), outputShape = node.GetInts("output_shape");
        string autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw new GraphException($"node '{node.Name}' (ConvTranspose): auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        if (groups < 1)
            throw new GraphException($"node '{node.Name}' (ConvTranspose): group {groups} must be positive");
        return Single(inputs =>
        {
            Tensor x = inputs[0]!, w = inputs[1]!;
            Tensor? b = inputs.Length > 2 ? inputs[2] : null;
            int n = (int)x.dim() - 2;
            if (n is < 1 or > 3 || w.dim() != x.dim() || w.shape[0] != x.shape[1] || x.shape[1] % groups != 0)
                throw new GraphException($"node '{node.Name}' (ConvTranspose): input [{string.Join(",", x.shape)}] and weight [{string.Join(",", w.shape)}] do not describe a 1-3D transposed convolution with {groups} group(s)");
            long[] stride = Conv.Spatial(strides, n, 1), dilation = Conv.Spatial(dilations, n, 1), extra = Conv.Spatial(outputPadding, n, 0);
            long[] input = x.shape[2..], kernel = w.shape[2..];
            var full = new long[n];
            for (int d = 0; d < n; d++) full[d] = stride[d] * (input[d] - 1) + (kernel[d] - 1) * dilation[d] + 1;
            long[] begin = new long[n], size = new long[n];
            long[]? target = outputShape is { Count: > 0 } ? outputShape.TakeLast(n).ToArray()
                : autoPad is "SAME_UPPER" or "SAME_LOWER" ? input.Zip(stride, (i, s) => i * s).ToArray() : null;
            for (int d = 0; d < n; d++)
            {
                if (target != null)
                {
                    // Halves round down (toward minus infinity when output_shape is larger than the full output).
                    long total = full[d] + extra[d] - target[d], half = (long)Math.Floor(total / 2.0);
                    begin[d] = autoPad == "SAME_UPPER" ? half : total - half;
                    size[d] = target[d];
                }
                else
                {
                    bool explicitPads = autoPad == "NOTSET" && pads is { Count: > 0 };
                    if (explicitPads && pads!.Count != 2 * n)
                        throw new GraphException($"node '{node.Name}' (ConvTranspose): pads has {pads.Count} values, expected {2 * n}");
                    begin[d] = explicitPads ? pads![d] : 0;
                    size[d] = full[d] + extra[d] - begin[d] - (explicitPads ? pads![d + n] : 0);
                }
                if (size[d] < 1)
                    throw new GraphException($"node '{node.Name}' (ConvTranspose): output size {size[d]} in spatial dimension {d} is not positive");
            }
            (x, w) = ChannelAlignment.Align(x, w, 0, groups);
            Tensor y = n switch
            {
                1 => nn.functional.conv_transpose1d(x, w, null, stride[0], 0, 0, dilation[0], groups),
                2 => nn.functional.conv_transpose2d(x, w, null, stride, new long[2], new long[2], dilation, groups),
                _ => nn.functional.conv_transpose3d(x, w, null, stride, new long[3], new long[3], dilation, groups),
            };
            // Crop (negative amounts) or extend with zeros to [begin, begin + size) of the full output.
            var amounts = new long[2 * n];
            for (int i = 0; i < n; i++)
            {
                int d = n - 1 - i;
                amounts[2 * i] = -begin[d];
                amounts[2 * i + 1] = begin[d] + size[d] - full[d];
            }
            if (amounts.Any(a => a != 0)) y = nn.functional.pad(y, amounts);
            return b is null ? y : y + b.reshape(new[] { -1L }.Concat(Enumerable.Repeat(1L, n)).ToArray());
        });
    }
}
