using PruneSharp.Ops;

namespace PruneSharp.Pruning.Structured;

/// <summary>The heads of one multi-head attention layer, as the dependency analysis found them.</summary>
/// <param name="Group">The group whose units are the heads (<see cref="ChannelGroup.Id"/>).</param>
/// <param name="Heads">Number of heads.</param>
/// <param name="HeadSize">Channels per head (head_dim).</param>
/// <param name="Projections">The nodes that compute the heads (the q, k and v projections).</param>
/// <param name="OutputProjections">The nodes that read the joined heads (the output projection).</param>
public sealed record AttentionLayer(int Group, int Heads, int HeadSize, IReadOnlyList<string> Projections, IReadOnlyList<string> OutputProjections);

/// <summary>
/// Attention heads as units of structured pruning (Michel et al. 2019, "Are Sixteen Heads Really Better than One?";
/// LLM-Pruner, Ma et al. 2023). Nothing here is specific to a model: the op rules find the heads. A Reshape that
/// splits a projection's C channels into [H, d] makes runs of d channels one unit (<see cref="ChannelFlow.Units"/>);
/// the products q·kᵀ and weights·v tie the head axes of q, k and v; the Reshape that joins the heads maps head h back
/// to rows h·d … (h+1)·d−1 of the output projection. So head h of a group is, at once, columns h·d … of the q, k and v
/// weights and biases and those rows of the output projection; removing it also rewrites the Reshape targets
/// (H → H − k). Prune heads with <see cref="ChannelPruner"/> and <see cref="PruningUnit.Head"/>; any
/// <see cref="IGroupImportance"/> scores them.
/// </summary>
public static class AttentionHeads
{
    /// <summary>The attention layers whose heads <paramref name="graph"/> can remove, in group order.</summary>
    public static IReadOnlyList<AttentionLayer> Find(DependencyGraph graph) =>
        graph.Groups.Where(g => g.IsHeads).Select(g => new AttentionLayer(g.Id, g.Size, g.UnitSize, g.Producers,
            g.Members.Where(m => m.Role == WeightRole.Reads).Select(m => m.Node).Distinct().ToList())).ToList();
}
