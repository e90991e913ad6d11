using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>Element-wise ops of one input and no attributes: activations and math functions.</summary>
public sealed class UnaryOps : OpFamily
{
    static readonly Dictionary<string, Func<Tensor, Tensor>> Functions = new()
    {
        ["Relu"] = x => nn.functional.relu(x),
        ["Sigmoid"] = x => x.sigmoid(),
        ["Tanh"] = x => x.tanh(),
        ["Exp"] = x => x.exp(),
        ["Log"] = x => x.log(),
        ["Sqrt"] = x => x.sqrt(),
        ["Neg"] = x => x.neg(),
        ["Abs"] = x => x.abs(),
        ["Erf"] = x => x.erf(),
        ["Identity"] = x => x,
    };

    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => Functions.Keys.ToList();

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var f = Functions[node.OpType];
        return Single(inputs => f(inputs[0]!));
    }
}
