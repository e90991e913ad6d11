namespace PruneSharp.Compression;

/// <summary>
/// Constants of the <c>.psz</c> container, version 1. All integers are little-endian. The file is a 24-byte header
/// (<see cref="Magic"/>, version u16, flags u16, section count u32, file length u64, CRC-32 of the previous 20 bytes)
/// and then sections, each: kind u8, name length u16, UTF-8 name, payload length u64, payload, CRC-32 of everything
/// from the kind to the payload's end. Section 0 is the model (<see cref="ModelSection"/>); each further one a shared
/// layer (<see cref="LayerSection"/>), whose payload docs/compression.md lays out byte by byte.
/// </summary>
public static class PszFormat
{
    /// <summary>The file's first four bytes: "PSZ" and 0x1A.</summary>
    public static ReadOnlySpan<byte> Magic => "PSZ\u001A"u8;

    /// <summary>The format version this code writes and reads.</summary>
    public const ushort Version = 1;

    /// <summary>Bytes of the header.</summary>
    public const int HeaderLength = 24;

    /// <summary>Section kind of the ONNX model without the shared layers' data.</summary>
    public const byte ModelSection = 1;

    /// <summary>Section kind of one shared-weight layer.</summary>
    public const byte LayerSection = 2;

    /// <summary>The name of the model section.</summary>
    public const string ModelName = "model";

    /// <summary>Longest section name, in UTF-8 bytes.</summary>
    public const int MaxNameLength = ushort.MaxValue;
}
