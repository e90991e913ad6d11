namespace PruneSharp.Compression;

/// <summary>
/// Bit widths of Deep Compression per layer kind. The defaults are the paper's for LeNet-5 and AlexNet: 8-bit shared
/// weights and 8-bit relative indices for convolutions, 5 bits of each for fully connected layers.
/// </summary>
public sealed record CompressionOptions
{
    /// <summary>Bits per shared weight (2^bits clusters) of convolution weights.</summary>
    public int ConvolutionBits { get; init; } = 8;

    /// <summary>Bits per shared weight of fully connected weights.</summary>
    public int FullyConnectedBits { get; init; } = 5;

    /// <summary>Relative index (gap) width of convolution weights.</summary>
    public int ConvolutionIndexBits { get; init; } = 8;

    /// <summary>Relative index (gap) width of fully connected weights.</summary>
    public int FullyConnectedIndexBits { get; init; } = 5;

    /// <summary>Cap on k-means iterations per layer.</summary>
    public int MaxIterations { get; init; } = KMeansSharing.DefaultMaxIterations;

    /// <summary>Bits per shared weight of <paramref name="kind"/>.</summary>
    public int Bits(LayerKind kind) => kind == LayerKind.Convolution ? ConvolutionBits : FullyConnectedBits;

    /// <summary>Relative index width of <paramref name="kind"/>.</summary>
    public int IndexBits(LayerKind kind) => kind == LayerKind.Convolution ? ConvolutionIndexBits : FullyConnectedIndexBits;

    /// <summary>Checks every width is 1..16 and the iteration cap positive.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        foreach (var (name, value) in new[] { ("convolution bits", ConvolutionBits), ("fully connected bits", FullyConnectedBits),
                     ("convolution index bits", ConvolutionIndexBits), ("fully connected index bits", FullyConnectedIndexBits) })
            if (value is < 1 or > 16) throw new ArgumentException($"{name} must be 1 to 16, got {value}");
        if (MaxIterations < 1) throw new ArgumentException($"the k-means iteration cap must be positive, got {MaxIterations}");
    }
}
