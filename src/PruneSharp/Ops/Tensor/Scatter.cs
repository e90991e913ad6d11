using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>ScatterElements</c> (writes each update at its own index along <c>axis</c>) and <c>ScatterND</c> (writes
/// update slices at index tuples of the leading dimensions) into a copy of the data, with <c>reduction</c>
/// none (default), add, mul, max or min. Both become indexed writes into rows of the flattened data.
/// </summary>
public sealed class Scatter : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "ScatterElements", "ScatterND" };

    /// <inheritdoc />
    public override int MinOpset => 11;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        string reduction = node.GetString("reduction", "none");
        if (reduction is not ("none" or "add" or "mul" or "max" or "min"))
            throw OpArgs.Error(node, $"reduction '{reduction}' is not one of none, add, mul, max, min");
        long axis = node.GetInt("axis", 0);
        bool elements = node.OpType == "ScatterElements";
        return Single(inputs =>
        {
            Tensor data = inputs[0]!, indices = inputs[1]!, updates = inputs[2]!;
            var (rows, width) = elements ? ElementRows(node, data, indices, updates, axis) : SliceRows(node, data, indices, updates);
            Tensor target = data.reshape(-1, width);
            Tensor source = updates.reshape(-1, width);
            Tensor result = reduction switch
            {
                "none" => target.clone().index_put_(source, new[] { rows }),
                "add" => target.clone().index_put_(source, new[] { rows }, accumulate: true),
                _ => Combine(target.clone(), rows, source, reduction),
            };
            return result.reshape(OpArgs.Shape(data));
        });
    }

    // mul, max and min have no indexed-reduce kernel here, so repeated rows are combined one update at a time.
    static Tensor Combine(Tensor target, Tensor rows, Tensor source, string reduction)
    {
        for (long i = 0; i < rows.shape[0]; i++)
        {
            Tensor row = rows.narrow(0, i, 1), update = source.narrow(0, i, 1), current = target.index_select(0, row);
            Tensor combined = reduction == "mul" ? current * update : reduction == "max" ? current.maximum(update) : current.minimum(update);
            target.index_put_(combined, new[] { row });
        }
        return target;
    }

    // ScatterElements: the flat position of update p is p's own position with the axis coordinate replaced by its index.
    static (Tensor Rows, long Width) ElementRows(Node node, Tensor data, Tensor indices, Tensor updates, long axis)
    {
        long a = OpArgs.Axis(node, axis, data.dim());
        if (!indices.shape.SequenceEqual(updates.shape) || indices.dim() != data.dim())
            throw OpArgs.Error(node, $"indices [{string.Join(",", indices.shape)}] and updates [{string.Join(",", updates.shape)}] must have the same shape and the data's rank");
        Tensor index = Gather.Indices(node, indices, data.shape[a]);
        Tensor flat = zeros(indices.shape, ScalarType.Int64, data.device);
        long stride = 1;
        for (long d = data.dim() - 1; d >= 0; d--)
        {
            var shape = Enumerable.Repeat(1L, (int)data.dim()).ToArray();
            shape[d] = indices.shape[d];
            Tensor coordinate = d == a ? index : arange(indices.shape[d], ScalarType.Int64, data.device).reshape(shape);
            flat = flat + coordinate * stride;
            stride *= data.shape[d];
        }
        return (flat.reshape(-1), 1);
    }

    // ScatterND: the last dimension of indices holds k leading coordinates; each addresses one row of the data seen as [prod(first k), rest].
    static (Tensor Rows, long Width) SliceRows(Node node, Tensor data, Tensor indices, Tensor updates)
    {
        long k = indices.shape[^1];
        if (k > data.dim()) throw OpArgs.Error(node, $"index tuples of length {k} exceed the data's rank {data.dim()}");
        long[] expected = indices.shape[..^1].Concat(data.shape[(int)k..]).ToArray();
        if (!updates.shape.SequenceEqual(expected))
            throw OpArgs.Error(node, $"updates must have shape [{string.Join(",", expected)}], got [{string.Join(",", updates.shape)}]");
        Tensor tuples = indices.to_type(ScalarType.Int64).reshape(-1, k);
        Tensor rows = zeros(tuples.shape[0], ScalarType.Int64, data.device);
        for (int d = 0; d < k; d++)
            rows = rows * data.shape[d] + Gather.Indices(node, tuples[.., d], data.shape[d]);
        long width = data.shape[(int)k..].Aggregate(1L, (p, n) => p * n);
        return (rows, width);
    }
}
