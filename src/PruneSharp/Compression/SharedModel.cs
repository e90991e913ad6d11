namespace PruneSharp.Compression;

/// <summary>A model after weight sharing: its graph, whose shared layers hold centroid values, and those layers.</summary>
/// <param name="Graph">The model with shared weights (what decompression gives back exactly).</param>
/// <param name="Layers">The shared-weight layers.</param>
public sealed record SharedModel(Graph.Graph Graph, IReadOnlyList<SharedLayer> Layers);
