using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Mod</c> with broadcasting: with <c>fmod</c> = 0 the remainder takes the divisor's sign (Python's %), with
/// <c>fmod</c> = 1 the dividend's sign (C's fmod). Floating-point inputs need <c>fmod</c> = 1.
/// </summary>
public sealed class Mod : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Mod" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.Elementwise(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool fmod = node.GetInt("fmod", 0) != 0;
        return Single(inputs =>
        {
            Tensor a = inputs[0]!, b = inputs[1]!;
            if (!fmod && a.is_floating_point())
                throw new GraphException($"node '{node.Name}' (Mod): floating-point inputs need fmod=1");
            return fmod ? a.fmod(b) : a.remainder(b);
        });
    }
}
