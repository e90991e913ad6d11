using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>MaxUnpool</c>: the partial inverse of <see cref="MaxPool"/>. Writes each value of X at its flat index from
/// MaxPool's Indices output into zeros of the unpooled shape: (in − 1)·stride − pad_begin − pad_end + kernel per
/// spatial dimension. The indices always refer to that shape; a larger optional <c>output_shape</c> input adds zeros
/// at the end of each spatial dimension (as ONNX's node tests expect).
/// </summary>
public sealed class MaxUnpool : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "MaxUnpool" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) != null || flow.Input(1) != null) flow.Block("MaxUnpool places values by flat index");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var kernel = node.GetInts("kernel_shape")?.ToArray() ?? throw new GraphException($"node '{node.Name}' (MaxUnpool): attribute kernel_shape is required");
        var strides = node.GetInts("strides");
        var pads = node.GetInts("pads");
        return Single(inputs =>
        {
            Tensor x = inputs[0]!, indices = inputs[1]!;
            Tensor? requested = inputs.Length > 2 ? inputs[2] : null;
            int n = kernel.Length;
            if (x.dim() != n + 2 || !indices.shape.SequenceEqual(x.shape))
                throw new GraphException($"node '{node.Name}' (MaxUnpool): X [{string.Join(",", x.shape)}] and I [{string.Join(",", indices.shape)}] must match a {n}-D kernel_shape");
            long[] stride = Conv.Spatial(strides, n, 1);
            long[] pad = pads is { Count: > 0 } ? pads.ToArray() : new long[2 * n];
            long[] inferred = new[] { x.shape[0], x.shape[1] }
                .Concat(Enumerable.Range(0, n).Select(d => (x.shape[d + 2] - 1) * stride[d] - pad[d] - pad[d + n] + kernel[d])).ToArray();
            long total = inferred.Aggregate(1L, (a, b) => a * b);
            if (indices.numel() > 0 && (indices.min().item<long>() < 0 || indices.max().item<long>() >= total))
                throw new GraphException($"node '{node.Name}' (MaxUnpool): indices do not fit the unpooled shape [{string.Join(",", inferred)}]");
            Tensor y = zeros(total, x.dtype, x.device).scatter(0, indices.flatten().to_type(ScalarType.Int64), x.flatten()).reshape(inferred);
            if (requested is null) return y;
            // Indices refer to the inferred shape; a larger output_shape adds zeros at the end of each dimension.
            long[] shape = requested.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
            if (shape.Length != n + 2 || shape[0] != inferred[0] || shape[1] != inferred[1] || shape.Zip(inferred).Any(p => p.First < p.Second))
                throw new GraphException($"node '{node.Name}' (MaxUnpool): output_shape [{string.Join(",", shape)}] is smaller than the unpooled shape [{string.Join(",", inferred)}]");
            var amounts = new long[2 * n];
            for (int i = 0; i < n; i++) amounts[2 * i + 1] = shape[n + 1 - i] - inferred[n + 1 - i];
            return nn.functional.pad(y, amounts);
        });
    }
}
