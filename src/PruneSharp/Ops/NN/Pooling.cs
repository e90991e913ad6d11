using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>The attributes every ONNX pooling op shares, read once when a node is compiled.</summary>
sealed class PoolAttributes
{
    public required Node Node { get; init; }
    public required long[] Kernel { get; init; }
    public required IReadOnlyList<long>? Strides { get; init; }
    public required IReadOnlyList<long>? Dilations { get; init; }
    public required IReadOnlyList<long>? Pads { get; init; }
    public required string AutoPad { get; init; }
    public required bool CeilMode { get; init; }

    /// <summary>Reads kernel_shape (required), strides, dilations, pads, auto_pad and ceil_mode.</summary>
    public static PoolAttributes Read(Node node)
    {
        var kernel = node.GetInts("kernel_shape") ?? throw new GraphException($"node '{node.Name}' ({node.OpType}): attribute kernel_shape is required");
        if (kernel.Count is < 1 or > 3 || kernel.Any(k => k < 1))
            throw new GraphException($"node '{node.Name}' ({node.OpType}): kernel_shape [{string.Join(",", kernel)}] must hold 1 to 3 positive sizes");
        var strides = node.GetInts("strides");
        var dilations = node.GetInts("dilations");
        foreach (var (name, values) in new[] { ("strides", strides), ("dilations", dilations) })
            if (values is { Count: > 0 } && (values.Count != kernel.Count || values.Any(v => v < 1)))
                throw new GraphException($"node '{node.Name}' ({node.OpType}): {name} [{string.Join(",", values)}] must hold {kernel.Count} positive values");
        var pads = node.GetInts("pads");
        if (pads is { Count: > 0 } && pads.Any(p => p < 0))
            throw new GraphException($"node '{node.Name}' ({node.OpType}): pads [{string.Join(",", pads)}] must not be negative");
        return new PoolAttributes
        {
            Node = node, Kernel = kernel.ToArray(), Strides = strides, Dilations = dilations, Pads = pads,
            AutoPad = node.GetString("auto_pad", "NOTSET"), CeilMode = node.GetInt("ceil_mode", 0) != 0,
        };
    }

    /// <summary>The window geometry for an input of shape <paramref name="shape"/> (N, C, spatial...).</summary>
    public PoolWindow Resolve(long[] shape)
    {
        int n = Kernel.Length;
        if (shape.Length != n + 2)
            throw new GraphException($"node '{Node.Name}' ({Node.OpType}): input shape [{string.Join(",", shape)}] does not match the {n}-D kernel_shape");
        long[] input = shape[2..];
        long[] stride = Conv.Spatial(Strides, n, 1), dilation = Conv.Spatial(Dilations, n, 1);
        long[] pads = Padding.Resolve(Node, AutoPad, Pads, input, Kernel, stride, dilation);
        var output = new long[n];
        var extension = new long[n];
        for (int d = 0; d < n; d++)
        {
            long effective = (Kernel[d] - 1) * dilation[d] + 1;
            long span = input[d] + pads[d] + pads[d + n] - effective;
            if (span < 0)
                throw new GraphException($"node '{Node.Name}' ({Node.OpType}): the kernel ({effective} with dilation) is larger than the padded input ({input[d] + pads[d] + pads[d + n]}) in spatial dimension {d}");
            long size = CeilMode && AutoPad == "NOTSET" ? (span + stride[d] - 1) / stride[d] + 1 : span / stride[d] + 1;
            // ceil_mode never starts a window in the end padding.
            if (CeilMode && (size - 1) * stride[d] >= input[d] + pads[d]) size--;
            output[d] = size;
            extension[d] = (size - 1) * stride[d] + effective - input[d] - pads[d];
        }
        return new PoolWindow(input, Kernel, stride, dilation, pads[..n], pads[n..], extension, output);
    }
}

/// <summary>
/// Where the windows of one pooling node fall on one input: the begin pads, and the end extension that makes
/// the last window fit exactly (end pads, plus ceil_mode's partial window; negative where end rows go unused).
/// <see cref="EndPads"/> are the end pads the node asked for (explicit or from auto_pad).
/// </summary>
sealed record PoolWindow(long[] Input, long[] Kernel, long[] Strides, long[] Dilations, long[] Begin, long[] EndPads, long[] End, long[] Output)
{
    public int Rank => Kernel.Length;

    public long KernelVolume => Kernel.Aggregate(1L, (a, b) => a * b);

    /// <summary>Pads (or crops) <paramref name="x"/> so that windows without padding cover it exactly.</summary>
    public Tensor Pad(Tensor x, double value)
    {
        var amounts = new long[2 * Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = Rank - 1 - i; // torch lists the last dimension first
            amounts[2 * i] = Begin[d];
            amounts[2 * i + 1] = End[d];
        }
        return amounts.All(a => a == 0) ? x : nn.functional.pad(x, amounts, TorchSharp.PaddingModes.Constant, value);
    }

    /// <summary>Window sums over an input already padded with <see cref="Pad"/>.</summary>
    public Tensor Sum(Tensor padded)
    {
        if (Dilations.All(d => d == 1))
            return Average(padded) * KernelVolume;
        // A depthwise convolution with a kernel of ones sums dilated windows.
        long[] shape = padded.shape;
        var planes = padded.reshape(new[] { shape[0] * shape[1], 1L }.Concat(shape[2..]).ToArray());
        var kernelOfOnes = ones(new long[] { 1, 1 }.Concat(Kernel).ToArray(), padded.dtype, padded.device);
        var sums = Rank switch
        {
            1 => nn.functional.conv1d(planes, kernelOfOnes, null, Strides[0], 0, Dilations[0]),
            2 => nn.functional.conv2d(planes, kernelOfOnes, null, Strides, new long[2], Dilations),
            _ => nn.functional.conv3d(planes, kernelOfOnes, null, Strides, new long[3], Dilations),
        };
        return sums.reshape(new[] { shape[0], shape[1] }.Concat(Output).ToArray());
    }

    /// <summary>Window means (every window counts <see cref="KernelVolume"/> elements); needs unit dilations.</summary>
    public Tensor Average(Tensor padded) => Rank switch
    {
        1 => nn.functional.avg_pool1d(padded, Kernel[0], Strides[0], 0),
        2 => nn.functional.avg_pool2d(padded, Kernel, Strides, new long[2]),
        _ => nn.functional.avg_pool3d(padded, Kernel, Strides, new long[3]),
    };

    /// <summary>
    /// For each output position, how many window taps fall inside [<paramref name="low"/>(d), <paramref name="high"/>(d))
    /// in input coordinates, as a tensor of the output's spatial shape.
    /// </summary>
    public Tensor Counts(Func<int, long> low, Func<int, long> high, ScalarType dtype, Device device)
    {
        Tensor? counts = null;
        for (int d = 0; d < Rank; d++)
        {
            var perDim = new double[Output[d]];
            for (long o = 0; o < Output[d]; o++)
                for (long k = 0; k < Kernel[d]; k++)
                {
                    long position = o * Strides[d] - Begin[d] + k * Dilations[d];
                    if (position >= low(d) && position < high(d)) perDim[o]++;
                }
            var shape = Enumerable.Repeat(1L, Rank).ToArray();
            shape[d] = Output[d];
            var t = tensor(perDim, dtype: dtype, device: device).reshape(shape);
            counts = counts is null ? t : counts * t;
        }
        return counts!;
    }
}
