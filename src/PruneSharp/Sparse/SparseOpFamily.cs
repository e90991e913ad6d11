using PruneSharp.Graph;
using PruneSharp.Ops;

namespace PruneSharp.Sparse;

/// <summary>
/// An op family that runs the nodes of <paramref name="inner"/> that have a <see cref="SparseLayer"/> with the layer's
/// kernel, and every other node (and everything else the family answers: channel rules, state inputs) as
/// <paramref name="inner"/> does.
/// </summary>
sealed class SparseOpFamily(OpFamily inner, IReadOnlyDictionary<Node, SparseLayer> layers) : OpFamily
{
    public override IReadOnlyList<string> OpTypes => inner.OpTypes;
    public override int MinOpset => inner.MinOpset;
    public override IReadOnlySet<string> UnreadAttributes => inner.UnreadAttributes;
    public override bool IsStateInput(Node node, int index) => inner.IsStateInput(node, index);
    public override void FlowChannels(ChannelFlow flow) => inner.FlowChannels(flow);
    public override Node Rewire(Node node, RewireContext context) => inner.Rewire(node, context);

    public override OpKernel Compile(Node node, CompileContext context)
    {
        var dense = inner.Compile(node, context);
        return layers.TryGetValue(node, out var layer) ? layer.Compile(dense) : dense;
    }
}
