using PruneSharp.Ops;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Slices of one weight that belong to a group's channels: <c>Positions[k]</c> along <see cref="Axis"/> of
/// <see cref="Weight"/> belongs to channel <c>Channels[k]</c> of the group.
/// </summary>
/// <param name="Weight">The weight's name (a parameter or buffer of the GraphModule).</param>
/// <param name="Axis">The axis sliced.</param>
/// <param name="Positions">Positions along the axis.</param>
/// <param name="Channels">The group channel each position belongs to.</param>
/// <param name="Role">Whether the slice computes, reads or scales the channel.</param>
/// <param name="Node">The node that uses the weight this way.</param>
/// <param name="OpType">That node's op type.</param>
/// <param name="Input">Which input of that node the weight is.</param>
public sealed record GroupMember(string Weight, int Axis, long[] Positions, int[] Channels, WeightRole Role, string Node, string OpType, int Input)
{
    /// <summary>
    /// True if position k is channel k for every k (the common case of a layer's own filters), so that a tensor of
    /// per-position values already is per channel.
    /// </summary>
    public bool InChannelOrder { get; } = Positions.Length == Channels.Length && Positions.Select((p, k) => p == k && Channels[k] == k).All(b => b);
}

/// <summary>
/// Positions of one computed value (an activation) that carry a group's channels: <c>Positions[k]</c> along
/// <see cref="Axis"/> of <see cref="Value"/> is channel <c>Channels[k]</c> of the group.
/// </summary>
/// <param name="Value">The value's name in the graph.</param>
/// <param name="Axis">The axis that carries the channels.</param>
/// <param name="Positions">Positions along the axis.</param>
/// <param name="Channels">The group channel each position carries.</param>
/// <param name="Producer">The node that computes the value.</param>
/// <param name="OpType">That node's op type.</param>
public sealed record GroupValue(string Value, int Axis, long[] Positions, int[] Channels, string Producer, string OpType);

/// <summary>
/// A set of channels that must be removed together everywhere they appear: channel c of the group is, at once,
/// filter c of the producing convolution(s), entry c of their BatchNorms and biases, the input slice c of every
/// consumer, and the matching channels of every residual partner.
/// </summary>
/// <param name="Id">Index of the group in its <see cref="DependencyGraph"/>.</param>
/// <param name="Size">Number of channels.</param>
/// <param name="Producers">Nodes that create the channels (e.g. the convolutions whose outputs are added).</param>
/// <param name="Members">Every weight slice that belongs to the channels.</param>
public sealed record ChannelGroup(int Id, int Size, IReadOnlyList<string> Producers, IReadOnlyList<GroupMember> Members)
{
    /// <summary>
    /// Producer channels per unit of the group: 1 where the units are single channels; the head size where a Reshape
    /// splits the producers' channels into [heads, head size] (multi-head attention), so that each unit is a whole
    /// head — its slices of the q, k and v projections and its rows of the output projection.
    /// </summary>
    public int UnitSize { get; init; } = 1;

    /// <summary>True if the units are attention heads (or other runs of channels split off by a Reshape): <see cref="UnitSize"/> &gt; 1.</summary>
    public bool IsHeads => UnitSize > 1;

    /// <summary>
    /// Why removing these channels is not exact (empty if it is): a LayerNorm over the channels renormalises the
    /// channels that stay. Such groups are pruned only with <see cref="ChannelPruningOptions.Approximate"/>.
    /// </summary>
    public IReadOnlyList<string> Approximations { get; init; } = Array.Empty<string>();

    /// <summary>True if the pruned model computes exactly what the original computes with the removed channels zeroed.</summary>
    public bool IsExact => Approximations.Count == 0;

    /// <summary>Every computed value that carries some of the group's channels, in data-flow order (activation-based criteria read these).</summary>
    public IReadOnlyList<GroupValue> Values { get; init; } = Array.Empty<GroupValue>();

    /// <inheritdoc />
    public override string ToString() => IsHeads
        ? $"group {Id}: {Size} heads of {UnitSize} channels from {string.Join(", ", Producers)} ({Members.Count} weight slices)"
        : $"group {Id}: {Size} channels from {string.Join(", ", Producers)} ({Members.Count} weight slices)";
}

/// <summary>Channels that the analysis left out of pruning, and why.</summary>
/// <param name="Size">Number of channels.</param>
/// <param name="Producers">Nodes that create the channels.</param>
/// <param name="Reasons">Why they cannot be removed safely.</param>
public sealed record BlockedGroup(int Size, IReadOnlyList<string> Producers, IReadOnlyList<string> Reasons);
