namespace PruneSharp.Compression;

/// <summary>
/// One layer's shared weights: a codebook of centroids and, for every weight of the layer (flattened in row-major
/// order), the index of its centroid, or <see cref="Pruned"/> for a weight that is zero and stays zero.
/// </summary>
/// <param name="Centroids">The codebook (at most 2^bits values).</param>
/// <param name="Assignments">Per weight: a centroid index, or <see cref="Pruned"/>.</param>
public sealed record WeightClusters(float[] Centroids, int[] Assignments)
{
    /// <summary>The assignment of a pruned (zero) weight.</summary>
    public const int Pruned = -1;

    /// <summary>The shared-weight values: each weight replaced by its centroid, pruned weights 0.</summary>
    public float[] Expand()
    {
        var values = new float[Assignments.Length];
        for (int i = 0; i < values.Length; i++) values[i] = Assignments[i] == Pruned ? 0f : Centroids[Assignments[i]];
        return values;
    }

    /// <summary>Number of weights that are not pruned.</summary>
    public int Kept => Assignments.Count(a => a != Pruned);
}
