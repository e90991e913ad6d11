using System.Buffers.Binary;
using System.Text;
using PruneSharp.Files;

namespace PruneSharp.Compression;

/// <summary>
/// Writes <c>.psz</c> files (<see cref="PszFormat"/>): each shared layer is stored with relative indices
/// (<see cref="RelativeIndexEncoding"/>) and its value symbols and gaps Huffman-coded, each with its own canonical code
/// (<see cref="HuffmanCode"/>) built from the layer's own symbol counts.
/// </summary>
public static class PszWriter
{
    /// <summary>Writes <paramref name="file"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="ArgumentException">A layer is inconsistent (see <see cref="LayerPayload"/>).</exception>
    public static void Write(PszFile file, string path)
    {
        var bytes = ToBytes(file);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The bytes of <paramref name="file"/> as a <c>.psz</c> file.</summary>
    /// <exception cref="ArgumentException">A layer is inconsistent (see <see cref="LayerPayload"/>).</exception>
    public static byte[] ToBytes(PszFile file)
    {
        var sections = new List<byte[]> { Section(PszFormat.ModelSection, PszFormat.ModelName, file.Model) };
        foreach (var layer in file.Layers) sections.Add(Section(PszFormat.LayerSection, layer.Name, LayerPayload(layer)));
        long length = PszFormat.HeaderLength + sections.Sum(s => (long)s.Length);
        var output = new byte[length];
        var header = output.AsSpan(0, PszFormat.HeaderLength);
        PszFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], PszFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)sections.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(header[12..], (ulong)length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Crc32.Compute(header[..20]));
        int offset = PszFormat.HeaderLength;
        foreach (var section in sections)
        {
            section.CopyTo(output, offset);
            offset += section.Length;
        }
        return output;
    }

    /// <summary>
    /// A layer section's payload: kind, bits, index bits, shape, codebook, entry count, the two code-length tables (up
    /// to their last symbol with a code) and
    /// the two Huffman-coded bit streams (layout in docs/compression.md).
    /// </summary>
    /// <exception cref="ArgumentException">Bit widths outside 1..16, more centroids than 2^bits, a non-finite centroid, or assignments that do not fit the shape or the codebook.</exception>
    public static byte[] LayerPayload(SharedLayer layer)
    {
        if (layer.Bits is < 1 or > 16) throw new ArgumentException($"layer '{layer.Name}': {layer.Bits} bits per weight, expected 1 to 16");
        if (layer.IndexBits is < 1 or > 16) throw new ArgumentException($"layer '{layer.Name}': {layer.IndexBits}-bit relative indices, expected 1 to 16");
        if (layer.Shape.Length > byte.MaxValue || layer.Shape.Any(d => d < 0)) throw new ArgumentException($"layer '{layer.Name}': shape [{string.Join(",", layer.Shape)}] cannot be stored");
        var centroids = layer.Clusters.Centroids;
        var assignments = layer.Clusters.Assignments;
        if (centroids.Length > 1 << layer.Bits) throw new ArgumentException($"layer '{layer.Name}': {centroids.Length} centroids do not fit {layer.Bits} bits");
        if (centroids.Any(c => !float.IsFinite(c))) throw new ArgumentException($"layer '{layer.Name}': a centroid is not finite");
        if (assignments.Length != layer.Count) throw new ArgumentException($"layer '{layer.Name}': {assignments.Length} assignments for {layer.Count} weights");
        if (assignments.Any(a => a < WeightClusters.Pruned || a >= centroids.Length)) throw new ArgumentException($"layer '{layer.Name}': an assignment is outside the codebook of {centroids.Length}");

        var (gaps, symbols) = RelativeIndexEncoding.Encode(assignments, layer.IndexBits);
        var valueCode = HuffmanCode.FromFrequencies(Counts(symbols, centroids.Length + 1));
        var gapCode = HuffmanCode.FromFrequencies(Counts(gaps, 1 << layer.IndexBits));
        var values = new BitWriter();
        var gapBits = new BitWriter();
        for (int e = 0; e < symbols.Length; e++)
        {
            valueCode.Encode(symbols[e], values);
            gapCode.Encode(gaps[e], gapBits);
        }

        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write((byte)layer.Kind);
        writer.Write((byte)layer.Bits);
        writer.Write((byte)layer.IndexBits);
        writer.Write((byte)layer.Shape.Length);
        foreach (long d in layer.Shape) writer.Write(d);
        writer.Write((uint)centroids.Length);
        foreach (float c in centroids) writer.Write(c);
        writer.Write((uint)symbols.Length);
        foreach (var code in new[] { valueCode, gapCode })
        {
            // Trailing symbols without a code are left out: the reader takes them as length 0.
            int stored = code.Lengths.Count;
            while (stored > 0 && code.Lengths[stored - 1] == 0) stored--;
            writer.Write((uint)stored);
            for (int s = 0; s < stored; s++) writer.Write(code.Lengths[s]);
        }
        foreach (var bits in new[] { values, gapBits })
        {
            writer.Write((ulong)bits.BitCount);
            writer.Write(bits.ToArray());
        }
        writer.Flush();
        return stream.ToArray();
    }

    static long[] Counts(int[] symbols, int alphabet)
    {
        var counts = new long[alphabet];
        foreach (int s in symbols) counts[s]++;
        return counts;
    }

    /// <summary>kind u8, name length u16, name, payload length u64, payload, CRC-32 of all before it.</summary>
    static byte[] Section(byte kind, string name, byte[] payload)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length > PszFormat.MaxNameLength) throw new ArgumentException($"section name '{name[..40]}...' is longer than {PszFormat.MaxNameLength} bytes");
        var section = new byte[1 + 2 + nameBytes.Length + 8 + payload.Length + 4];
        var span = section.AsSpan();
        span[0] = kind;
        BinaryPrimitives.WriteUInt16LittleEndian(span[1..], (ushort)nameBytes.Length);
        nameBytes.CopyTo(span[3..]);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(3 + nameBytes.Length)..], (ulong)payload.Length);
        payload.CopyTo(span[(11 + nameBytes.Length)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], Crc32.Compute(span[..^4]));
        return section;
    }
}
