using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Sum</c> and <c>Mean</c> of one or more inputs, element-wise with NumPy-style broadcasting.</summary>
public sealed class VariadicOps : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Sum", "Mean" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.Elementwise(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (node.Inputs.Count == 0)
            throw new GraphException($"node '{node.Name}' ({node.OpType}): needs at least one input");
        bool mean = node.OpType == "Mean";
        return Single(inputs =>
        {
            Tensor total = inputs[0]!;
            for (int i = 1; i < inputs.Length; i++) total = total + inputs[i]!;
            return mean ? total / inputs.Length : total;
        });
    }
}
