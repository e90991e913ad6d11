using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Compress</c>: keeps the slices along <c>axis</c> (of the flattened input when absent) whose condition is
/// true; a condition shorter than the axis drops the rest.
/// </summary>
public sealed class Compress : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Compress" };

    /// <inheritdoc />
    public override int MinOpset => 9;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long? axis = node.Attributes.ContainsKey("axis") ? node.GetInt("axis", 0) : null;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!, condition = inputs[1]!.reshape(-1).to_type(ScalarType.Bool);
            if (axis == null) x = x.reshape(-1);
            long a = OpArgs.Axis(node, axis ?? 0, x.dim());
            if (condition.shape[0] > x.shape[a])
                throw OpArgs.Error(node, $"the condition has {condition.shape[0]} entries but axis {a} has size {x.shape[a]}");
            return x.index_select(a, condition.nonzero().reshape(-1));
        });
    }
}
