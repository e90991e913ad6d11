using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>ArgMax</c> and <c>ArgMin</c>: int64 index of the extreme along <c>axis</c> (default 0), keeping the axis by
/// default; ties give the first index, or the last with <c>select_last_index</c>.
/// </summary>
public sealed class ArgExtremum : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "ArgMax", "ArgMin" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool max = node.OpType == "ArgMax";
        long axis = node.GetInt("axis", 0);
        bool keep = node.GetInt("keepdims", 1) != 0, last = node.GetInt("select_last_index", 0) != 0;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long a = OpArgs.Axis(node, axis, Math.Max(x.dim(), 1));
            if (x.dim() == 0) x = x.reshape(1);
            if (x.shape[a] == 0) throw OpArgs.Error(node, $"axis {a} is empty");
            Tensor source = last ? x.flip(a) : x;
            Tensor index = max ? source.argmax(a, keep) : source.argmin(a, keep);
            return last ? x.shape[a] - 1 - index : index;
        });
    }
}
