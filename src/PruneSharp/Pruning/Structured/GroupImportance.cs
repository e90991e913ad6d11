using PruneSharp.Graph;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>How per-weight channel scores are combined across a group's members.</summary>
public enum GroupAggregation
{
    /// <summary>Sum over members.</summary>
    Sum,
    /// <summary>Mean over members.</summary>
    Mean,
    /// <summary>Maximum over members.</summary>
    Max,
    /// <summary>Only the first member (the first producer's weight).</summary>
    First,
}

/// <summary>Scores the channels of a group: one score per channel, higher = keep.</summary>
public interface IGroupImportance
{
    /// <summary>Scores of <paramref name="group"/>'s channels, shape [Size], on the CPU.</summary>
    Tensor Score(ChannelGroup group, GraphModule module);

    /// <summary>
    /// Whether scores of different groups are on one scale, so that a global ranking compares them as they are;
    /// otherwise (the default) it divides each group's scores by their mean first.
    /// </summary>
    bool ComparableAcrossGroups => false;
}

/// <summary>Helpers shared by the importance criteria.</summary>
static class GroupSlices
{
    /// <summary>The weight's current value (parameter or buffer).</summary>
    public static Tensor Value(IReadOnlyDictionary<string, Tensor> weights, string name) =>
        weights.TryGetValue(name, out var value) ? value : throw new GraphException($"weight '{name}' is not in the module");

    /// <summary>Rows [positions, rest] of the member's slices: row k belongs to channel member.Channels[k].</summary>
    public static Tensor Rows(Tensor weight, GroupMember member)
    {
        var slices = member.InChannelOrder && weight.shape[member.Axis] == member.Positions.Length
            ? weight.detach()
            : weight.detach().index_select(member.Axis, tensor(member.Positions));
        return slices.movedim(new long[] { member.Axis }, new long[] { 0 }).reshape(member.Positions.Length, -1);
    }

    /// <summary>Adds row scores into per-channel scores.</summary>
    public static Tensor PerChannel(Tensor rowScores, GroupMember member, int size) =>
        member.InChannelOrder && size == member.Channels.Length
            ? rowScores
            : zeros(new long[] { size }, dtype: rowScores.dtype).index_add(0, tensor(member.Channels.Select(c => (long)c).ToArray()), rowScores, 1);

    /// <summary>The member's positions of a tensor of per-position values along its first axis.</summary>
    public static Tensor AtPositions(Tensor perPosition, GroupMember member) =>
        member.InChannelOrder && perPosition.shape[0] == member.Positions.Length ? perPosition : perPosition.index_select(0, tensor(member.Positions));

    /// <summary>Combines member scores [members, size] into [size].</summary>
    public static Tensor Aggregate(List<Tensor> scores, int size, GroupAggregation aggregation)
    {
        if (scores.Count == 0) return zeros(new long[] { size }, dtype: float64);
        var stacked = stack(scores.Select(s => s.to_type(ScalarType.Float64)));
        return aggregation switch
        {
            GroupAggregation.Sum => stacked.sum(dim: 0),
            GroupAggregation.Mean => stacked.mean(new long[] { 0 }),
            GroupAggregation.Max => stacked.amax(new long[] { 0 }),
            _ => stacked[0],
        };
    }
}

/// <summary>
/// Lp magnitude of channels (Li et al. 2017, "Pruning Filters for Efficient ConvNets"): for each weight that
/// produces the group's channels, score_c = Σ |w|^p over channel c's slice (the p-th power of its Lp norm),
/// combined across weights by <see cref="Aggregation"/>. With <see cref="IncludeReads"/>, the next layers'
/// input slices count too (the whole coupled group, as DepGraph does).
/// </summary>
/// <param name="P">The norm: 1 or 2.</param>
/// <param name="Aggregation">How member scores combine.</param>
/// <param name="IncludeReads">Also count the consumers' input slices.</param>
public sealed record MagnitudeImportance(int P = 2, GroupAggregation Aggregation = GroupAggregation.Sum, bool IncludeReads = false) : IGroupImportance
{
    /// <inheritdoc />
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        var scores = new List<Tensor>();
        var weights = module.Weights();
        foreach (var member in group.Members.Where(m => m.Role == WeightRole.Produces || (IncludeReads && m.Role == WeightRole.Reads)))
        {
            // Norms along every axis but the member's, in one reduction (no copy of the weight), then its positions.
            var weight = GroupSlices.Value(weights, member.Weight).detach();
            var others = Enumerable.Range(0, (int)weight.dim()).Where(d => d != member.Axis).Select(d => (long)d).ToArray();
            var norms = others.Length == 0 ? weight.abs() : linalg.vector_norm(weight, P, others);
            var rows = GroupSlices.AtPositions(norms, member).pow(P);
            scores.Add(GroupSlices.PerChannel(rows, member, group.Size));
        }
        return GroupSlices.Aggregate(scores, group.Size, Aggregation);
    }
}

/// <summary>
/// Filter pruning via geometric median (FPGM, He et al. 2019): channels whose filters lie close to all others are
/// replaceable. score_c = Σ_j ‖F_c − F_j‖₂ over the concatenated producing slices (all of a head's slices for heads);
/// the smallest are removed.
/// </summary>
public sealed record FpgmImportance : IGroupImportance
{
    /// <inheritdoc />
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        var parts = new List<Tensor>();
        var weights = module.Weights();
        foreach (var member in group.Members.Where(m => m.Role == WeightRole.Produces))
        {
            var rows = GroupSlices.Rows(GroupSlices.Value(weights, member.Weight), member).to_type(ScalarType.Float64);
            // Each channel's slices side by side (one per channel, head-size many for an attention head, g for channels tied by a shuffle), placed at the channel.
            long[] channels = member.Channels.Distinct().Order().Select(c => (long)c).ToArray();
            if (member.Positions.Length % channels.Length != 0)
                throw new InvalidOperationException($"FPGM: '{member.Weight}' holds unequal numbers of slices per channel");
            long[] byChannel = member.Channels.Select((c, k) => (c, k)).OrderBy(t => t.c).ThenBy(t => t.k).Select(t => (long)t.k).ToArray();
            var slices = rows.index_select(0, tensor(byChannel)).reshape(channels.Length, -1);
            parts.Add(zeros(group.Size, slices.shape[1], dtype: float64).index_copy(0, tensor(channels), slices));
        }
        if (parts.Count == 0) return zeros(group.Size, dtype: float64);
        var filters = cat(parts, 1);
        return cdist(filters.unsqueeze(0), filters.unsqueeze(0)).squeeze(0).sum(1);
    }
}

/// <summary>
/// BatchNorm scale (network slimming, Liu et al. 2017): score_c = Σ |γ_c| over the group's BatchNormalization
/// scales. Groups without BatchNorm score zero (so use it where every group has one). The scales of all layers are
/// compared as they are in a global ranking (<see cref="ComparableAcrossGroups"/>): the paper's single threshold,
/// under which the sparsity penalty decides how many channels each layer loses.
/// </summary>
public sealed record BatchNormScaleImportance : IGroupImportance
{
    /// <inheritdoc />
    public bool ComparableAcrossGroups => true;

    /// <inheritdoc />
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        var weights = module.Weights();
        var scores = group.Members.Where(m => m.OpType == "BatchNormalization" && m.Input == 1)
            .Select(m => GroupSlices.PerChannel(GroupSlices.Rows(GroupSlices.Value(weights, m.Weight), m).abs().sum(1), m, group.Size))
            .ToList();
        return GroupSlices.Aggregate(scores, group.Size, GroupAggregation.Sum);
    }
}

/// <summary>
/// First-order Taylor importance (Molchanov et al. 2019): the loss change from removing channel c is estimated as
/// (Σ g·w)² over all of the channel's weights and per-channel values. Gradients must have been accumulated on the
/// module's parameters (run backward on calibration batches first).
/// </summary>
public sealed record TaylorImportance : IGroupImportance
{
    /// <inheritdoc />
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        var total = zeros(group.Size, dtype: float64);
        var weights = module.Weights();
        foreach (var member in group.Members.Where(m => m.Role != WeightRole.Reads && module.IsParameter(m.Weight)))
        {
            var parameter = weights[member.Weight];
            if (parameter.grad is not { } grad)
                throw new InvalidOperationException($"Taylor importance needs gradients, but '{member.Weight}' has none: run backward on calibration data first");
            var rows = GroupSlices.Rows(parameter.detach() * grad, member).sum(1).to_type(ScalarType.Float64);
            total += GroupSlices.PerChannel(rows, member, group.Size);
        }
        return total.pow(2);
    }
}

/// <summary>Random scores from a seeded generator (the control every criterion should beat).</summary>
/// <param name="Seed">The seed.</param>
public sealed record RandomImportance(long Seed = 0) : IGroupImportance
{
    /// <inheritdoc />
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        using var generator = new Generator((ulong)(Seed * 1_000_003 + group.Id));
        return rand(new long[] { group.Size }, generator: generator, dtype: float64);
    }
}
