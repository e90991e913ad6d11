using System.Buffers.Binary;
using System.Text;

namespace PruneSharp.Compression;

/// <summary>
/// Reads <c>.psz</c> files (<see cref="PszFormat"/>) and checks everything before trusting it: the magic, version and
/// header checksum, the file length the header records (a truncated or extended file is refused), every section's
/// bounds and CRC-32, and within a layer its bit widths, shape, codebook size, code lengths (a valid, complete
/// canonical code), stream lengths, and that the decoded entries fit the layer. Any problem raises a
/// <see cref="PszFormatException"/> naming the file and section.
/// </summary>
public static class PszReader
{
    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="PszFormatException">The file is damaged or not a <c>.psz</c> file.</exception>
    public static PszFile Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"compressed model '{path}' does not exist", path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a <c>.psz</c> file from memory; <paramref name="fileName"/> names it in errors.</summary>
    /// <exception cref="PszFormatException">The bytes are damaged or not a <c>.psz</c> file.</exception>
    public static PszFile Read(ReadOnlySpan<byte> bytes, string fileName)
    {
        PszFormatException Fail(string section, string problem) => new(fileName, section, problem);
        if (bytes.Length < PszFormat.HeaderLength || !bytes[..4].SequenceEqual(PszFormat.Magic))
            throw Fail("header", bytes.Length < 4 || !bytes[..4].SequenceEqual(PszFormat.Magic)
                ? "not a .psz file (its first bytes are not \"PSZ\" 0x1A)"
                : $"the file is truncated: {bytes.Length} bytes, shorter than the {PszFormat.HeaderLength}-byte header");
        var header = bytes[..PszFormat.HeaderLength];
        if (BinaryPrimitives.ReadUInt32LittleEndian(header[20..]) != Crc32.Compute(header[..20]))
            throw Fail("header", "checksum mismatch: the header is damaged");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != PszFormat.Version) throw Fail("header", $"format version {version}; this reader reads version {PszFormat.Version}");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header[12..]);
        if (length != (ulong)bytes.Length)
            throw Fail("header", length > (ulong)bytes.Length
                ? $"the file is truncated: the header records {length} bytes, the file has {bytes.Length}"
                : $"the file has {bytes.Length} bytes, the header records {length}: data was appended");
        if (count == 0) throw Fail("header", "the file has no sections; a model section is required");

        byte[]? model = null;
        var layers = new List<SharedLayer>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int offset = PszFormat.HeaderLength;
        for (uint s = 0; s < count; s++)
        {
            string where = $"section {s}";
            var rest = bytes[offset..];
            if (rest.Length < 3) throw Fail(where, "the file ends inside the section header");
            byte kind = rest[0];
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(rest[1..]);
            if (rest.Length < 3 + nameLength + 8) throw Fail(where, "the file ends inside the section header");
            string name;
            try
            {
                name = new UTF8Encoding(false, true).GetString(rest.Slice(3, nameLength));
            }
            catch (DecoderFallbackException)
            {
                throw Fail(where, "the section name is not UTF-8");
            }
            where = $"section {s} '{name}'";
            ulong payloadLength = BinaryPrimitives.ReadUInt64LittleEndian(rest[(3 + nameLength)..]);
            long total = 3L + nameLength + 8 + 4;
            if (payloadLength > (ulong)(rest.Length - total))
                throw Fail(where, $"the payload of {payloadLength} bytes runs past the end of the file");
            int sectionLength = (int)(total + (long)payloadLength);
            var section = rest[..sectionLength];
            if (BinaryPrimitives.ReadUInt32LittleEndian(section[^4..]) != Crc32.Compute(section[..^4]))
                throw Fail(where, "checksum mismatch: the section is damaged");
            var payload = section.Slice(3 + nameLength + 8, (int)payloadLength);
            offset += sectionLength;

            if (s == 0)
            {
                if (kind != PszFormat.ModelSection || name != PszFormat.ModelName) throw Fail(where, $"the first section must be the model (kind {PszFormat.ModelSection}), found kind {kind}");
                model = payload.ToArray();
                continue;
            }
            if (kind != PszFormat.LayerSection) throw Fail(where, $"unknown section kind {kind} (expected {PszFormat.LayerSection}, a layer)");
            if (!names.Add(name)) throw Fail(where, "a second section for the same layer");
            layers.Add(ReadLayer(payload, name, problem => Fail(where, problem)));
        }
        if (offset != bytes.Length) throw Fail("header", $"{bytes.Length - offset} bytes after the last of {count} sections");
        return new PszFile(model!, layers);
    }

    static SharedLayer ReadLayer(ReadOnlySpan<byte> payload, string name, Func<string, PszFormatException> fail)
    {
        var reader = new SpanReader(payload, fail);
        byte kind = reader.Byte();
        if (kind is not ((byte)LayerKind.Convolution or (byte)LayerKind.FullyConnected)) throw fail($"unknown layer kind {kind}");
        int bits = reader.Byte(), indexBits = reader.Byte(), rank = reader.Byte();
        if (bits is < 1 or > 16) throw fail($"{bits} bits per weight; 1 to 16 are valid");
        if (indexBits is < 1 or > 16) throw fail($"{indexBits}-bit relative indices; 1 to 16 are valid");
        var shape = new long[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = reader.Int64();
            if (shape[d] < 0 || (shape[d] > 0 && count > Array.MaxLength / shape[d])) throw fail($"dimension {d} is {shape[d]}; the layer's size is invalid");
            count *= shape[d];
        }
        long needed = count * (sizeof(int) + sizeof(float)), usable = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
        if (needed > usable)
            throw fail($"a layer of {count} weights needs {needed / (1 << 20)} MiB to decode, more than the {usable / (1 << 20)} MiB this process may use; the shape is damaged or the model too large for this machine");
        uint centroidCount = reader.UInt32();
        if (centroidCount > 1u << bits) throw fail($"{centroidCount} centroids do not fit {bits} bits");
        var centroids = new float[centroidCount];
        for (int c = 0; c < centroids.Length; c++)
            if (!float.IsFinite(centroids[c] = reader.Single())) throw fail($"centroid {c} is {centroids[c]}");
        uint entries = reader.UInt32();
        if (entries > count) throw fail($"{entries} stored entries for a layer of {count} weights");
        if (entries > (long)reader.Left * 8) throw fail($"{entries} stored entries cannot fit the {reader.Left} bytes left (each takes at least one bit)");
        var valueCode = Code(ref reader, (int)centroidCount + 1, "value", fail);
        var gapCode = Code(ref reader, 1 << indexBits, "gap", fail);
        var symbols = Decode(ref reader, valueCode, (int)entries, "value", fail);
        var gaps = Decode(ref reader, gapCode, (int)entries, "gap", fail);
        if (!reader.AtEnd) throw fail($"{reader.Left} unread bytes after the gap stream");
        var assignments = RelativeIndexEncoding.Decode(gaps, symbols, count, indexBits, out string? error) ?? throw fail(error!);
        return new SharedLayer(name, shape, (LayerKind)kind, bits, indexBits, new WeightClusters(centroids, assignments));
    }

    /// <summary>A code-length table: its stored count (at most <paramref name="alphabet"/>), then that many lengths; the symbols after them have none.</summary>
    static HuffmanCode Code(ref SpanReader reader, int alphabet, string what, Func<string, PszFormatException> fail)
    {
        uint stored = reader.UInt32();
        if (stored > alphabet) throw fail($"bad {what} code lengths: {stored} stored for an alphabet of {alphabet} symbols");
        var lengths = new byte[alphabet];
        reader.Bytes((int)stored).CopyTo(lengths);
        try
        {
            return HuffmanCode.FromLengths(lengths);
        }
        catch (ArgumentException e)
        {
            throw fail($"bad {what} code lengths: {e.Message}");
        }
    }

    static int[] Decode(ref SpanReader reader, HuffmanCode code, int entries, string what, Func<string, PszFormatException> fail)
    {
        ulong bitCount = reader.UInt64();
        if (bitCount > (ulong)reader.Left * 8) throw fail($"the {what} stream records {bitCount} bits, only {reader.Left} bytes are left");
        int byteCount = (int)((bitCount + 7) / 8);
        var bits = new BitReader(reader.Bytes(byteCount), (long)bitCount);
        var symbols = new int[entries];
        for (int e = 0; e < entries; e++)
            symbols[e] = code.Decode(ref bits) ?? throw fail($"the {what} stream ends or holds an invalid code at entry {e} of {entries}");
        if (bits.Remaining != 0) throw fail($"the {what} stream has {bits.Remaining} bits left after {entries} entries");
        return symbols;
    }

    /// <summary>Little-endian reads that fail with the layer's error instead of running past the payload.</summary>
    ref struct SpanReader(ReadOnlySpan<byte> bytes, Func<string, PszFormatException> fail)
    {
        readonly ReadOnlySpan<byte> _bytes = bytes;
        int _offset;

        public readonly int Left => _bytes.Length - _offset;
        public readonly bool AtEnd => _offset == _bytes.Length;

        public ReadOnlySpan<byte> Bytes(int n)
        {
            if (n < 0 || n > Left) throw fail($"the payload ends early: {n} bytes needed at offset {_offset}, {Left} left");
            var slice = _bytes.Slice(_offset, n);
            _offset += n;
            return slice;
        }

        public byte Byte() => Bytes(1)[0];
        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));
        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));
        public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));
        public float Single() => BinaryPrimitives.ReadSingleLittleEndian(Bytes(4));
    }
}
