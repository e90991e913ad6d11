namespace PruneSharp.Compression;

/// <summary>The layer types that get their own bit widths (Deep Compression uses more bits for convolutions).</summary>
public enum LayerKind : byte
{
    /// <summary>A Conv or ConvTranspose weight.</summary>
    Convolution = 1,

    /// <summary>A Gemm or MatMul weight (a fully connected layer).</summary>
    FullyConnected = 2,
}
