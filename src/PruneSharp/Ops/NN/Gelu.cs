using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Gelu</c> (opset 20): x·Φ(x) exactly (approximate "none") or with the tanh approximation ("tanh").</summary>
public sealed class Gelu : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Gelu" };

    /// <inheritdoc />
    public override int MinOpset => 20;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var approximate = node.GetString("approximate", "none") switch
        {
            "none" => TorchSharp.Modules.GELU.Approximate.none,
            "tanh" => TorchSharp.Modules.GELU.Approximate.tanh,
            var other => throw new GraphException($"node '{node.Name}' (Gelu): approximate '{other}' is not one of none, tanh"),
        };
        return Single(inputs => nn.functional.gelu(inputs[0]!, approximate));
    }
}
