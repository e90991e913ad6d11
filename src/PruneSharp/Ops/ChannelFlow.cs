using PruneSharp.Graph;

namespace PruneSharp.Ops;

/// <summary>
/// One channel of a channel space: the <see cref="Index"/>-th channel of space <see cref="Space"/>
/// (e.g. the 5th output channel of a convolution). <see cref="None"/> marks a position that belongs to no space.
/// </summary>
/// <param name="Space">The space's id, or −1.</param>
/// <param name="Index">The channel's index inside its space.</param>
public readonly record struct ChannelLabel(int Space, int Index)
{
    /// <summary>A position that carries no prunable channel.</summary>
    public static readonly ChannelLabel None = new(-1, -1);

    /// <summary>True for <see cref="None"/>.</summary>
    public bool IsNone => Space < 0;
}

/// <summary>How a weight slice relates to the channel it belongs to.</summary>
public enum WeightRole
{
    /// <summary>The slice computes the channel (a convolution filter, a row of a linear layer).</summary>
    Produces,
    /// <summary>The slice reads the channel (the input-channel slice of the next layer's weight).</summary>
    Reads,
    /// <summary>A per-channel value: bias, normalisation scale or shift, running statistics.</summary>
    PerChannel,
}

/// <summary>Which channel each position along one axis of a value carries.</summary>
/// <param name="Axis">The axis (non-negative).</param>
/// <param name="Labels">One label per position along <paramref name="Axis"/>.</param>
public sealed record ValueChannels(int Axis, ChannelLabel[] Labels);

/// <summary>
/// What an op family sees and says when channels flow through one of its nodes (see
/// <see cref="OpFamily.FlowChannels"/>): which positions of its inputs carry which channels, and, in return, the
/// channels of its outputs, the weight slices that belong to channels, the channel sets that must be removed
/// together, or that its channels cannot be removed safely. This is a structural fact about the op; which channels
/// to remove is decided elsewhere.
/// </summary>
public abstract class ChannelFlow
{
    /// <summary>The node being analysed.</summary>
    public abstract Node Node { get; }

    /// <summary>The channels carried by input <paramref name="index"/>, or null if it carries none.</summary>
    public abstract ValueChannels? Input(int index);

    /// <summary>The observed shape of a value (from a sample forward pass), or null if unknown.</summary>
    public abstract long[]? Shape(string valueName);

    /// <summary>True if <paramref name="valueName"/> is a weight (an initializer) that can be sliced.</summary>
    public abstract bool IsWeight(string valueName);

    /// <summary>
    /// The value of an initializer or of a <c>Constant</c> node's output (e.g. split sizes, slice bounds, a Reshape
    /// target: surgery can rewrite those), or null if it is computed.
    /// </summary>
    public abstract TorchSharp.torch.Tensor? Constant(string valueName);

    /// <summary>Declares a new channel space of <paramref name="size"/> channels produced by this node; returns labels 0..size−1.</summary>
    public abstract ChannelLabel[] NewSpace(int size);

    /// <summary>Output <paramref name="index"/> carries <paramref name="labels"/> along <paramref name="axis"/>.</summary>
    public abstract void SetOutput(int index, int axis, ChannelLabel[] labels);

    /// <summary>Slice <c>p</c> of weight <paramref name="weight"/> along <paramref name="axis"/> belongs to channel <c>labels[p]</c>.</summary>
    public abstract void Member(string weight, int axis, ChannelLabel[] labels, WeightRole role);

    /// <summary>
    /// Makes every run of <paramref name="unit"/> consecutive positions of <paramref name="labels"/> one unit, removed
    /// whole (a Reshape that splits C channels into [C/unit, unit], e.g. attention heads of head size
    /// <paramref name="unit"/>): ties the channels of each run together and returns one label per run. Null if a run
    /// mixes positions with and without channels; the caller then blocks.
    /// </summary>
    public abstract ChannelLabel[]? Units(ChannelLabel[] labels, int unit);

    /// <summary>Position p of <paramref name="a"/> and of <paramref name="b"/> must be removed together (e.g. the two inputs of a residual add).</summary>
    public abstract void Tie(ChannelLabel[] a, ChannelLabel[] b);

    /// <summary>The channels reaching this node cannot be removed safely; <paramref name="reason"/> says why.</summary>
    public abstract void Block(string reason);

    /// <summary>
    /// The channels reaching this node can be removed, but not exactly: the node computes statistics over them (a
    /// LayerNorm over the channel axis), so the channels that stay are renormalised and the pruned model differs from
    /// the original with the removed channels zeroed. Such groups are pruned only on request, and need fine-tuning.
    /// </summary>
    public abstract void Approximate(string reason);
}

/// <summary>Positions along <see cref="Axis"/> of a value that survive channel removal.</summary>
/// <param name="Axis">The value's channel axis.</param>
/// <param name="Kept">One flag per position of the original value.</param>
public sealed record ValueSurvivors(int Axis, bool[] Kept)
{
    /// <summary>How many positions survive.</summary>
    public int Count => Kept.Count(k => k);

    /// <summary>Surviving positions in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public int CountIn(long start, long end)
    {
        int count = 0;
        for (long p = start; p < end; p++) if (Kept[p]) count++;
        return count;
    }
}

/// <summary>What surgery tells an op family when it rebuilds a node after channels were removed.</summary>
public abstract class RewireContext
{
    /// <summary>The shape of an initializer after channels were removed, or null if the name is no initializer.</summary>
    public abstract long[]? InitializerShape(string name);

    /// <summary>The observed shape of a value in the original model.</summary>
    public abstract long[]? OriginalShape(string valueName);

    /// <summary>The value of a constant (an initializer or a <c>Constant</c> node's output, e.g. a Reshape target), or null.</summary>
    public abstract TorchSharp.torch.Tensor? Constant(string name);

    /// <summary>Adds a new constant initializer (named after <paramref name="nameHint"/>) and returns its name, for a node that needs a value of its own.</summary>
    public abstract string AddConstant(string nameHint, TorchSharp.torch.Tensor value);

    /// <summary>The shape of a value once the channels are removed: its original shape with the channel axis shortened by the removed positions.</summary>
    public abstract long[]? PrunedShape(string valueName);

    /// <summary>The graph's default-domain opset.</summary>
    public abstract int Opset { get; }

    /// <summary>
    /// Which positions along the channel axis of a computed value survive the removal, or null if the value lost none.
    /// </summary>
    public abstract ValueSurvivors? Survivors(string valueName);
}
