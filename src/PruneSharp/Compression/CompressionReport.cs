namespace PruneSharp.Compression;

/// <summary>
/// Sizes of one shared layer at each stage of Deep Compression, in bytes (bits rounded up to whole bytes).
/// </summary>
/// <param name="Name">The weight's name.</param>
/// <param name="Kind">Convolution or fully connected.</param>
/// <param name="Weights">Number of weights.</param>
/// <param name="Kept">Non-zero weights.</param>
/// <param name="Entries">Stored entries: the non-zero weights plus padding entries for gaps wider than the index.</param>
/// <param name="Clusters">Centroids in the codebook.</param>
/// <param name="Bits">Bits per shared weight.</param>
/// <param name="IndexBits">Relative index width.</param>
/// <param name="OriginalBytes">Dense float32: 4 bytes per weight.</param>
/// <param name="PrunedBytes">Sparse storage: per entry a float32 value and a relative index.</param>
/// <param name="QuantizedBytes">Per entry a cluster index of <paramref name="Bits"/> bits and a relative index, plus the float32 codebook.</param>
/// <param name="HuffmanBytes">The layer's <c>.psz</c> section payload: Huffman-coded cluster indices and gaps, code-length tables, codebook and shape.</param>
public sealed record LayerCompression(string Name, LayerKind Kind, long Weights, long Kept, long Entries, int Clusters, int Bits, int IndexBits,
    long OriginalBytes, long PrunedBytes, long QuantizedBytes, long HuffmanBytes);

/// <summary>
/// What Deep Compression saved, per shared layer and in total. The total counts every parameter of the model: the
/// shared layers at each stage, and the other initializers (biases, normalisation) as float32 in every column.
/// Ratios follow the paper's convention: dense float32 bytes of all parameters divided by compressed bytes.
/// <see cref="FileRatio"/> divides by the whole <c>.psz</c> file instead, which also holds the model's graph, names
/// and checksums.
/// </summary>
/// <param name="Layers">The shared layers.</param>
/// <param name="OtherBytes">Bytes of the model's other initializers (stored as they are).</param>
/// <param name="FileBytes">Size of the <c>.psz</c> file.</param>
public sealed record CompressionReport(IReadOnlyList<LayerCompression> Layers, long OtherBytes, long FileBytes)
{
    /// <summary>All parameters as dense float32.</summary>
    public long OriginalBytes => Layers.Sum(l => l.OriginalBytes) + OtherBytes;

    /// <summary>All parameters after pruning, in sparse storage.</summary>
    public long PrunedBytes => Layers.Sum(l => l.PrunedBytes) + OtherBytes;

    /// <summary>All parameters after pruning and quantisation.</summary>
    public long QuantizedBytes => Layers.Sum(l => l.QuantizedBytes) + OtherBytes;

    /// <summary>All parameters after pruning, quantisation and Huffman coding.</summary>
    public long HuffmanBytes => Layers.Sum(l => l.HuffmanBytes) + OtherBytes;

    /// <summary>Compression ratio of the parameters: <see cref="OriginalBytes"/> / <see cref="HuffmanBytes"/>.</summary>
    public double Ratio => (double)OriginalBytes / HuffmanBytes;

    /// <summary><see cref="OriginalBytes"/> / <see cref="FileBytes"/>.</summary>
    public double FileRatio => (double)OriginalBytes / FileBytes;

    /// <summary>Measures <paramref name="model"/> as stored in a <c>.psz</c> file of <paramref name="fileBytes"/> bytes.</summary>
    public static CompressionReport Measure(SharedModel model, long fileBytes)
    {
        var rows = new List<LayerCompression>();
        foreach (var layer in model.Layers)
        {
            var (gaps, _) = RelativeIndexEncoding.Encode(layer.Clusters.Assignments, layer.IndexBits);
            long entries = gaps.Length;
            int clusters = layer.Clusters.Centroids.Length;
            rows.Add(new LayerCompression(layer.Name, layer.Kind, layer.Count, layer.Clusters.Kept, entries, clusters, layer.Bits, layer.IndexBits,
                layer.Count * 4, Bytes(entries * (32L + layer.IndexBits)), Bytes(entries * (layer.Bits + (long)layer.IndexBits)) + clusters * 4L,
                PszWriter.LayerPayload(layer).LongLength));
        }
        var shared = model.Layers.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        long other = model.Graph.Initializers.Where(kv => !shared.Contains(kv.Key)).Sum(kv => kv.Value.numel() * kv.Value.ElementSize);
        return new CompressionReport(rows, other, fileBytes);
    }

    static long Bytes(long bits) => (bits + 7) / 8;
}
