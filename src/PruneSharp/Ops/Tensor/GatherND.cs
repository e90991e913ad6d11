using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>GatherND</c>: the last dimension of indices holds k coordinates into the data's dimensions after the first
/// <c>batch_dims</c>; each tuple picks a slice. Output shape: indices.shape[:-1] + data.shape[batch_dims + k:].
/// </summary>
public sealed class GatherND : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "GatherND" };

    /// <inheritdoc />
    public override int MinOpset => 11;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long batchDims = node.GetInt("batch_dims", 0);
        return Single(inputs =>
        {
            Tensor data = inputs[0]!, indices = inputs[1]!;
            int b = (int)batchDims;
            long k = indices.shape[^1];
            if (b < 0 || b >= Math.Min(data.dim(), indices.dim()) || b + k > data.dim() || !indices.shape[..b].SequenceEqual(data.shape[..b]))
                throw OpArgs.Error(node, $"indices [{string.Join(",", indices.shape)}] do not fit data [{string.Join(",", data.shape)}] with batch_dims {b}");
            long batches = data.shape[..b].Aggregate(1L, (p, n) => p * n);
            long tuplesPerBatch = data.shape[b..(int)(b + k)].Aggregate(1L, (p, n) => p * n);
            long width = data.shape[(int)(b + k)..].Aggregate(1L, (p, n) => p * n);
            Tensor tuples = indices.to_type(ScalarType.Int64).reshape(batches, -1, k);
            Tensor rows = arange(batches, ScalarType.Int64, data.device).unsqueeze(1) * tuplesPerBatch;
            Tensor offset = zeros(new long[] { batches, tuples.shape[1] }, ScalarType.Int64, data.device);
            for (int d = 0; d < k; d++)
                offset = offset * data.shape[b + d] + Gather.Indices(node, tuples[.., .., d], data.shape[b + d]);
            long[] shape = indices.shape[..^1].Concat(data.shape[(int)(b + k)..]).ToArray();
            return data.reshape(batches * tuplesPerBatch, width).index_select(0, (rows + offset).flatten()).reshape(shape);
        });
    }
}
