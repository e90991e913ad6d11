namespace PruneSharp.Compression;

/// <summary>
/// Weight sharing by one-dimensional k-means (Han et al., 2016, section 3.1): the non-zero weights of a layer are
/// grouped into at most 2^bits clusters minimising the within-cluster sum of squares, and each weight is replaced by
/// its cluster's centroid. Centroids start spread linearly between the smallest and largest non-zero weight (the
/// paper's best initialisation: it keeps centroids on the rare large weights), then Lloyd iterations alternate
/// assigning each weight to the nearest centroid (ties go to the lower centroid) and moving each centroid to its
/// members' mean (accumulated in double precision); a centroid that loses all members stays where it is. The
/// iterations stop when no assignment changes or after <c>maxIterations</c>. Zeros (pruned weights) take no part and
/// stay zero. Deterministic: no randomness.
/// </summary>
public static class KMeansSharing
{
    /// <summary>Default cap on Lloyd iterations.</summary>
    public const int DefaultMaxIterations = 100;

    /// <summary>Clusters the non-zero entries of <paramref name="weights"/> into at most 2^<paramref name="bits"/> centroids.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is outside 1..16.</exception>
    /// <exception cref="ArgumentException">A weight is NaN or infinite.</exception>
    public static WeightClusters Cluster(ReadOnlySpan<float> weights, int bits, int maxIterations = DefaultMaxIterations)
    {
        if (bits is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits per shared weight must be 1 to 16");
        var assignments = new int[weights.Length];
        int kept = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (!float.IsFinite(w)) throw new ArgumentException($"weight {i} is {w}; weight sharing needs finite weights");
            if (w == 0f) { assignments[i] = WeightClusters.Pruned; continue; }
            kept++;
            min = Math.Min(min, w);
            max = Math.Max(max, w);
        }
        if (kept == 0) return new WeightClusters(Array.Empty<float>(), assignments);

        // Linear initialisation; a layer with fewer distinct values than clusters needs no more centroids than values.
        int k = (int)Math.Min(1L << bits, kept);
        var centroids = new float[k];
        for (int c = 0; c < k; c++) centroids[c] = k == 1 ? min : (float)(min + (double)(max - min) * c / (k - 1));

        var sums = new double[k];
        var counts = new long[k];
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            bool changed = Assign(weights, centroids, assignments, iteration == 0);
            if (!changed && iteration > 0) break;
            Array.Clear(sums);
            Array.Clear(counts);
            for (int i = 0; i < weights.Length; i++)
                if (assignments[i] != WeightClusters.Pruned)
                {
                    sums[assignments[i]] += weights[i];
                    counts[assignments[i]]++;
                }
            for (int c = 0; c < k; c++)
                if (counts[c] > 0) centroids[c] = (float)(sums[c] / counts[c]);
            // Means of ordered, non-overlapping groups stay ordered; the nearest-centroid search relies on it.
            Array.Sort(centroids);
        }
        Assign(weights, centroids, assignments, force: false);
        return new WeightClusters(centroids, assignments);
    }

    /// <summary>
    /// Assigns every non-zero weight to its nearest centroid (centroids ascending; a tie goes to the lower one).
    /// Returns true if any assignment changed (always true with <paramref name="force"/>).
    /// </summary>
    static bool Assign(ReadOnlySpan<float> weights, float[] centroids, int[] assignments, bool force)
    {
        bool changed = force;
        for (int i = 0; i < weights.Length; i++)
        {
            if (assignments[i] == WeightClusters.Pruned) continue;
            int nearest = Nearest(centroids, weights[i]);
            if (nearest != assignments[i]) { assignments[i] = nearest; changed = true; }
        }
        return changed;
    }

    /// <summary>Index of the centroid nearest to <paramref name="w"/> in ascending <paramref name="centroids"/> (the lower on a tie).</summary>
    internal static int Nearest(float[] centroids, float w)
    {
        int lo = 0, hi = centroids.Length - 1;
        // The first centroid >= w, found by bisection; the nearest is it or its predecessor.
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (centroids[mid] < w) lo = mid + 1;
            else hi = mid;
        }
        if (lo > 0 && Math.Abs((double)w - centroids[lo - 1]) <= Math.Abs((double)centroids[lo] - w)) return lo - 1;
        return lo;
    }
}
