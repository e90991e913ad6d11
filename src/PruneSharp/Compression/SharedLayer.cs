namespace PruneSharp.Compression;

/// <summary>
/// A layer's weight after weight sharing: what a <c>.psz</c> layer section stores.
/// </summary>
/// <param name="Name">The weight's initializer name in the model.</param>
/// <param name="Shape">The weight's dimensions.</param>
/// <param name="Kind">Convolution or fully connected.</param>
/// <param name="Bits">Bits per shared weight: at most 2^Bits centroids.</param>
/// <param name="IndexBits">Width of the relative indices (gaps).</param>
/// <param name="Clusters">The codebook and per-weight assignments.</param>
public sealed record SharedLayer(string Name, long[] Shape, LayerKind Kind, int Bits, int IndexBits, WeightClusters Clusters)
{
    /// <summary>Number of weights (the product of <see cref="Shape"/>).</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}
