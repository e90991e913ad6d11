using PruneSharp.Compression;

namespace PruneSharp.Tests.Compression;

public class KMeansSharingTests
{
    /// <summary>
    /// The algorithm written the slow, obvious way: linear initialisation, then for every weight a scan of all
    /// centroids (the first of equally near ones wins), and means recomputed from scratch.
    /// </summary>
    static (float[] Centroids, int[] Assignments) Naive(float[] weights, int bits, int maxIterations)
    {
        var kept = Enumerable.Range(0, weights.Length).Where(i => weights[i] != 0).ToArray();
        float min = kept.Min(i => weights[i]), max = kept.Max(i => weights[i]);
        int k = Math.Min(1 << bits, kept.Length);
        var centroids = Enumerable.Range(0, k).Select(c => k == 1 ? min : (float)(min + (double)(max - min) * c / (k - 1))).ToArray();
        var assignments = Enumerable.Repeat(-1, weights.Length).ToArray();
        for (int iteration = 0; iteration <= maxIterations; iteration++)
        {
            bool changed = false;
            foreach (int i in kept)
            {
                int best = 0;
                for (int c = 1; c < k; c++)
                    if (Math.Abs((double)weights[i] - centroids[c]) < Math.Abs((double)weights[i] - centroids[best])) best = c;
                changed |= best != assignments[i];
                assignments[i] = best;
            }
            if ((!changed && iteration > 0) || iteration == maxIterations) break;
            for (int c = 0; c < k; c++)
            {
                var members = kept.Where(i => assignments[i] == c).ToArray();
                if (members.Length > 0) centroids[c] = (float)(members.Sum(i => (double)weights[i]) / members.Length);
            }
            Array.Sort(centroids);
        }
        return (centroids, assignments);
    }

    static float[] SparseWeights(int seed, int length, double density)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.NextDouble() < density ? (float)(random.NextDouble() * 2 - 1) * (float)Math.Exp(random.NextDouble() * 2) : 0f).ToArray();
    }

    [Theory]
    [InlineData(1, 3, 1000, 0.3)]
    [InlineData(2, 5, 4000, 0.1)]
    [InlineData(3, 2, 50, 0.9)]
    [InlineData(4, 8, 300, 0.5)] // fewer weights than 2^8: one centroid per weight at most
    public void Matches_the_naive_reference(int seed, int bits, int length, double density)
    {
        var weights = SparseWeights(seed, length, density);
        var fast = KMeansSharing.Cluster(weights, bits, 50);
        var (centroids, assignments) = Naive(weights, bits, 50);
        Assert.Equal(centroids, fast.Centroids);
        Assert.Equal(assignments, fast.Assignments);
    }

    [Fact]
    public void Zeros_stay_pruned_and_every_weight_goes_to_its_nearest_centroid()
    {
        var weights = SparseWeights(9, 5000, 0.2);
        var clusters = KMeansSharing.Cluster(weights, 4);
        Assert.True(clusters.Centroids.Length <= 16);
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] == 0) { Assert.Equal(WeightClusters.Pruned, clusters.Assignments[i]); continue; }
            double own = Math.Abs(weights[i] - clusters.Centroids[clusters.Assignments[i]]);
            Assert.All(clusters.Centroids, c => Assert.True(own <= Math.Abs(weights[i] - c) + 1e-12));
        }
        var shared = clusters.Expand();
        Assert.Equal(weights.Count(w => w == 0), shared.Count(w => w == 0));
    }

    [Fact]
    public void An_all_zero_layer_has_an_empty_codebook()
    {
        var clusters = KMeansSharing.Cluster(new float[10], 5);
        Assert.Empty(clusters.Centroids);
        Assert.All(clusters.Assignments, a => Assert.Equal(WeightClusters.Pruned, a));
    }
}
