using System.Buffers.Binary;
using PruneSharp.Compression;

namespace PruneSharp.Tests.Compression;

public class PszFormatTests
{
    const string Name = "damaged.psz";

    static SharedLayer Layer(string name, LayerKind kind, long[] shape, int bits, int indexBits, int seed, double density)
    {
        var random = new Random(seed);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var weights = Enumerable.Range(0, (int)count).Select(_ => random.NextDouble() < density ? (float)random.NextDouble() - 0.5f : 0f).ToArray();
        return new SharedLayer(name, shape, kind, bits, indexBits, KMeansSharing.Cluster(weights, bits));
    }

    static PszFile Sample() => new(new byte[] { 1, 2, 3, 4, 5 }, new[]
    {
        Layer("conv.weight", LayerKind.Convolution, new long[] { 4, 3, 3, 3 }, 8, 8, 1, 0.4),
        Layer("fc.weight", LayerKind.FullyConnected, new long[] { 30, 40 }, 5, 3, 2, 0.05),
        Layer("empty.weight", LayerKind.FullyConnected, new long[] { 3, 3 }, 5, 5, 3, 0.0),
    });

    [Fact]
    public void A_written_file_reads_back_equal()
    {
        var file = Sample();
        var read = PszReader.Read(PszWriter.ToBytes(file), Name);
        Assert.Equal(file.Model, read.Model);
        Assert.Equal(file.Layers.Count, read.Layers.Count);
        foreach (var (written, back) in file.Layers.Zip(read.Layers))
        {
            Assert.Equal((written.Name, written.Kind, written.Bits, written.IndexBits), (back.Name, back.Kind, back.Bits, back.IndexBits));
            Assert.Equal(written.Shape, back.Shape);
            Assert.Equal(written.Clusters.Centroids, back.Clusters.Centroids);
            Assert.Equal(written.Clusters.Assignments, back.Clusters.Assignments);
        }
    }

    [Fact]
    public void Every_truncation_is_refused_with_the_file_named()
    {
        var bytes = PszWriter.ToBytes(Sample());
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<PszFormatException>(() => PszReader.Read(bytes.AsSpan(0, length), Name));
            Assert.StartsWith(Name + ": ", e.Message);
            if (length >= PszFormat.HeaderLength) Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void Every_flipped_byte_is_refused_naming_its_section()
    {
        var bytes = PszWriter.ToBytes(Sample());
        int modelSectionEnd = PszFormat.HeaderLength + 1 + 2 + 5 + 8 + 5 + 4;
        for (int position = 0; position < bytes.Length; position++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[position] ^= 0x5A;
            var e = Assert.Throws<PszFormatException>(() => PszReader.Read(damaged, Name));
            Assert.StartsWith(Name + ": ", e.Message);
            if (position < PszFormat.HeaderLength) Assert.Equal("header", e.Section);
            else if (position < modelSectionEnd) Assert.StartsWith("section 0", e.Section);
            else Assert.StartsWith("section ", e.Section);
        }
    }

    [Fact]
    public void Appended_bytes_are_refused()
    {
        var bytes = PszWriter.ToBytes(Sample()).Append((byte)0).ToArray();
        Assert.Contains("appended", Assert.Throws<PszFormatException>(() => PszReader.Read(bytes, Name)).Message);
    }

    /// <summary>Offset of the value code lengths (after their count) in the fc.weight section, and that section's bounds.</summary>
    static (int Start, int Length, int Table) FcSection(byte[] bytes)
    {
        int offset = PszFormat.HeaderLength;
        for (int s = 0; ; s++)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 1));
            int payloadLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(offset + 3 + nameLength));
            int length = 3 + nameLength + 8 + payloadLength + 4;
            if (s == 2)
            {
                int payload = offset + 3 + nameLength + 8;
                int rank = bytes[payload + 3];
                int centroids = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(payload + 4 + 8 * rank));
                return (offset, length, payload + 4 + 8 * rank + 4 + 4 * centroids + 4 + 4);
            }
            offset += length;
        }
    }

    static void Reseal(byte[] bytes, int start, int length) =>
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(start + length - 4), Crc32.Compute(bytes.AsSpan(start, length - 4)));

    [Fact]
    public void Bad_code_lengths_behind_a_valid_checksum_are_refused()
    {
        var bytes = PszWriter.ToBytes(Sample());
        var (start, length, table) = FcSection(bytes);

        var overlong = (byte[])bytes.Clone();
        overlong[table] = 30;
        Reseal(overlong, start, length);
        var e = Assert.Throws<PszFormatException>(() => PszReader.Read(overlong, Name));
        Assert.Equal("section 2 'fc.weight'", e.Section);
        Assert.Contains("bad value code lengths", e.Message);

        var oversubscribed = (byte[])bytes.Clone();
        for (int s = 0; s < 4; s++) oversubscribed[table + s] = 1;
        Reseal(oversubscribed, start, length);
        Assert.Contains("not a prefix code", Assert.Throws<PszFormatException>(() => PszReader.Read(oversubscribed, Name)).Message);

        var tooMany = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(tooMany.AsSpan(table - 4), 1000);
        Reseal(tooMany, start, length);
        Assert.Contains("stored for an alphabet of", Assert.Throws<PszFormatException>(() => PszReader.Read(tooMany, Name)).Message);
    }

    [Fact]
    public void A_shape_too_large_to_decode_behind_a_valid_checksum_is_refused_before_allocating()
    {
        var bytes = PszWriter.ToBytes(Sample());
        var (start, length, _) = FcSection(bytes);
        int payload = start + 3 + "fc.weight".Length + 8;
        // fc.weight is 30 × 40: give it enough rows that decoding would take more than half of this process's memory
        // (or, on a machine with more memory than a .NET array can index, more weights than an array holds).
        long rows = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2 / (40 * 8) + 1;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(payload + 4), rows);
        Reseal(bytes, start, length);
        var e = Assert.Throws<PszFormatException>(() => PszReader.Read(bytes, Name));
        Assert.Equal("section 2 'fc.weight'", e.Section);
        Assert.Matches("needs \\d+ MiB to decode|the layer's size is invalid", e.Message);
    }

    [Fact]
    public void A_stream_that_ends_early_behind_a_valid_checksum_is_refused()
    {
        var bytes = PszWriter.ToBytes(Sample());
        var (start, length, table) = FcSection(bytes);
        // The entry count sits just before the value code lengths' count: claim one entry more than the streams hold.
        var more = (byte[])bytes.Clone();
        uint entries = BinaryPrimitives.ReadUInt32LittleEndian(more.AsSpan(table - 8));
        BinaryPrimitives.WriteUInt32LittleEndian(more.AsSpan(table - 8), entries + 1);
        Reseal(more, start, length);
        Assert.Contains("stream ends", Assert.Throws<PszFormatException>(() => PszReader.Read(more, Name)).Message);
    }

    [Fact]
    public void A_missing_file_and_a_foreign_file_get_clear_errors()
    {
        Assert.Throws<FileNotFoundException>(() => PszReader.Read("/nonexistent/model.psz"));
        var e = Assert.Throws<PszFormatException>(() => PszReader.Read("\u0008ONNX model bytes, not a psz file"u8, "model.onnx"));
        Assert.Contains("not a .psz file", e.Message);
    }
}
