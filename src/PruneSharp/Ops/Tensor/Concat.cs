using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Concat</c>: joins the inputs along <c>axis</c> (negative counts from the end).</summary>
public sealed class Concat : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Concat" };

    /// <inheritdoc />
    public override int MinOpset => 4;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (!node.Attributes.ContainsKey("axis")) throw OpArgs.Error(node, "the attribute 'axis' is required");
        long axis = node.GetInt("axis", 0);
        return Single(inputs =>
        {
            Tensor[] parts = inputs.Select(t => t!).ToArray();
            long a = OpArgs.Axis(node, axis, parts[0].dim());
            return parts.Length == 1 ? parts[0] : cat(parts, a);
        });
    }
}
