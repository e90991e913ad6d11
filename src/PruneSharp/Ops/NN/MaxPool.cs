using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>MaxPool</c> over 1, 2 or 3 spatial dimensions: kernel_shape, strides, dilations, pads (asymmetric too,
/// padded with the lowest value so padding never wins), auto_pad and ceil_mode. The optional second output
/// <c>Indices</c> holds flat indices into the whole input tensor, row-major (storage_order 0) or column-major
/// over the spatial dimensions (storage_order 1).
/// </summary>
public sealed class MaxPool : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "MaxPool" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var attributes = PoolAttributes.Read(node);
        bool columnMajor = node.GetInt("storage_order", 0) != 0;
        bool wantIndices = node.Outputs.Count > 1 && node.Outputs[1].Length > 0;
        return (inputs, _) =>
        {
            Tensor x = inputs[0]!;
            var window = attributes.Resolve(x.shape);
            Tensor padded = window.Pad(x, Lowest(x.dtype));
            if (!wantIndices)
                return new[] { Pool(padded, window) };
            var (y, indices) = PoolWithIndices(padded, window);
            return new[] { y, InputIndices(indices, window, x.shape, columnMajor) };
        };
    }

    static double Lowest(ScalarType dtype) => dtype switch
    {
        ScalarType.Byte => 0,
        ScalarType.Int8 => sbyte.MinValue,
        ScalarType.Int16 => short.MinValue,
        ScalarType.Int32 => int.MinValue,
        ScalarType.Int64 => long.MinValue,
        _ => double.NegativeInfinity,
    };

    static Tensor Pool(Tensor padded, PoolWindow w) => w.Rank switch
    {
        1 => nn.functional.max_pool1d(padded, w.Kernel[0], w.Strides[0], 0, w.Dilations[0]),
        2 => nn.functional.max_pool2d(padded, w.Kernel, w.Strides, new long[2], w.Dilations),
        _ => nn.functional.max_pool3d(padded, w.Kernel, w.Strides, new long[3], w.Dilations),
    };

    static (Tensor Values, Tensor Indices) PoolWithIndices(Tensor padded, PoolWindow w) => w.Rank switch
    {
        1 => nn.functional.max_pool1d_with_indices(padded, w.Kernel[0], w.Strides[0], 0, w.Dilations[0]),
        2 => nn.functional.max_pool2d_with_indices(padded, w.Kernel, w.Strides, new long[2], w.Dilations),
        _ => nn.functional.max_pool3d_with_indices(padded, w.Kernel, w.Strides, new long[3], w.Dilations),
    };

    /// <summary>Turns torch's indices (flat within one padded plane) into ONNX's flat indices into the input.</summary>
    static Tensor InputIndices(Tensor indices, PoolWindow w, long[] inputShape, bool columnMajor)
    {
        int n = w.Rank;
        var coordinates = new Tensor[n];
        Tensor rest = indices;
        for (int d = n - 1; d >= 0; d--)
        {
            long paddedSize = w.Input[d] + w.Begin[d] + w.End[d];
            coordinates[d] = rest.remainder(paddedSize) - w.Begin[d];
            rest = rest.div(paddedSize, RoundingMode.floor);
        }
        Tensor flat = zeros_like(indices);
        long stride = 1;
        foreach (int d in columnMajor ? Enumerable.Range(0, n) : Enumerable.Range(0, n).Reverse())
        {
            flat = flat + coordinates[d] * stride;
            stride *= w.Input[d];
        }
        long planes = inputShape[0] * inputShape[1];
        var planeShape = new[] { inputShape[0], inputShape[1] }.Concat(Enumerable.Repeat(1L, n)).ToArray();
        return flat + arange(planes, ScalarType.Int64, indices.device).reshape(planeShape) * stride;
    }
}
