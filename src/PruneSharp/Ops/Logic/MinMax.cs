using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Min</c> and <c>Max</c>: the element-wise extreme of any number of inputs, with broadcasting; NaN wins.</summary>
public sealed class MinMax : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Min", "Max" };

    /// <inheritdoc />
    public override int MinOpset => 8;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.Elementwise(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool max = node.OpType == "Max";
        return Single(inputs =>
        {
            if (inputs.Length == 0) throw OpArgs.Error(node, "at least one input is required");
            Tensor result = inputs[0]!;
            for (int i = 1; i < inputs.Length; i++)
                result = max ? result.maximum(inputs[i]!) : result.minimum(inputs[i]!);
            return result;
        });
    }
}
