using System.Buffers.Binary;
using System.Text;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Checkpoints;

public class SafetensorsTests
{
    /// <summary>Values that test a conversion's corners: signed zeros, infinities, NaNs, subnormals of both halves, ties.</summary>
    static float[] AwkwardValues()
    {
        var values = new List<float>
        {
            0f, -0f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, BitConverter.Int32BitsToSingle(0x7F800123),
            float.Epsilon, -float.Epsilon, 1e-40f, 1e-39f, 5.96e-8f, 2.98e-8f, 6.1e-5f, 65504f, 65520f, 1e38f, 3.4e38f, -3.4e38f,
            BitConverter.Int32BitsToSingle(0x3F808000), // exactly halfway between two bfloat16 values, even below
            BitConverter.Int32BitsToSingle(0x3F818000), // halfway, odd below: rounds up
            BitConverter.Int32BitsToSingle(0x3F808001), // just above halfway
            BitConverter.Int32BitsToSingle(0x7F7FFFFF), // largest float: bfloat16 rounds to infinity
        };
        var random = new Random(7);
        for (int i = 0; i < 200; i++) values.Add((float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-12, 12))));
        for (int i = 0; i < 50; i++) values.Add(BitConverter.Int32BitsToSingle(random.Next()));
        return values.ToArray();
    }

    /// <summary>Round to nearest even, written from the definition of bfloat16 (the upper 16 bits of a float32).</summary>
    static ushort NaiveBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint lower = bits & 0xFFFF, upper = bits >> 16;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) upper++;
        return (ushort)upper;
    }

    [Fact]
    public void F32_round_trip_is_bit_exact_including_nan_payloads()
    {
        using var dir = new TempFolder();
        var values = AwkwardValues();
        using var t = tensor(values).reshape(values.Length / 2, 2);
        SafetensorsWriter.Write(dir.File("a.safetensors"), [("w", t, SafetensorsDType.F32)]);
        using var file = SafetensorsFile.Open(dir.File("a.safetensors"));
        Assert.Equal(new long[] { values.Length / 2, 2 }, file.Shape("w"));
        Assert.Equal(values.SelectMany(BitConverter.GetBytes).ToArray(), file.ReadBytes("w"));
        using var read = file.Read("w");
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), read.data<float>().ToArray().Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void BF16_rounds_to_nearest_even_like_a_naive_reference_and_reads_back_like_torch()
    {
        using var dir = new TempFolder();
        var values = AwkwardValues();
        using var t = tensor(values);
        SafetensorsWriter.Write(dir.File("b.safetensors"), [("w", t, SafetensorsDType.BF16)]);
        using var file = SafetensorsFile.Open(dir.File("b.safetensors"));
        byte[] bytes = file.ReadBytes("w");
        using var read = file.Read("w");
        using var torchRound = t.to(ScalarType.BFloat16).to(ScalarType.Float32);
        float[] got = read.data<float>().ToArray(), expected = torchRound.data<float>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            ushort stored = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i));
            if (float.IsNaN(values[i]))
            {
                Assert.True(float.IsNaN(got[i]), $"element {i}");
                continue;
            }
            Assert.True(NaiveBFloat16(values[i]) == stored, $"element {i} ({values[i]:R}): stored {stored:X4}, expected {NaiveBFloat16(values[i]):X4}");
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(got[i]));
        }
    }

    [Fact]
    public void F16_rounds_like_a_dotnet_half_cast_and_reads_back_exactly()
    {
        using var dir = new TempFolder();
        var values = AwkwardValues();
        using var t = tensor(values);
        SafetensorsWriter.Write(dir.File("h.safetensors"), [("w", t, SafetensorsDType.F16)]);
        using var file = SafetensorsFile.Open(dir.File("h.safetensors"));
        byte[] bytes = file.ReadBytes("w");
        using var read = file.Read("w");
        float[] got = read.data<float>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            var half = BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)));
            if (float.IsNaN(values[i]))
            {
                Assert.True(Half.IsNaN(half) && float.IsNaN(got[i]), $"element {i}");
                continue;
            }
            Assert.True(BitConverter.HalfToUInt16Bits((Half)values[i]) == BitConverter.HalfToUInt16Bits(half), $"element {i} ({values[i]:R})");
            Assert.Equal(BitConverter.SingleToUInt32Bits((float)half), BitConverter.SingleToUInt32Bits(got[i]));
        }
    }

    [Fact]
    public void Tensors_larger_than_one_slice_are_copied_and_widened_whole()
    {
        using var dir = new TempFolder();
        using var t = randn(37, 29);
        long saved = TensorBytes.SliceBytes;
        TensorBytes.SliceBytes = 64; // 16 floats or 32 halves per slice, so every path crosses slice boundaries
        try
        {
            foreach (var dtype in new[] { SafetensorsDType.F32, SafetensorsDType.F16, SafetensorsDType.BF16 })
            {
                string path = dir.File($"{dtype}.safetensors");
                SafetensorsWriter.Write(path, [("w", t, dtype)]);
                using var file = SafetensorsFile.Open(path);
                using var read = file.Read("w");
                using var expected = t.to(dtype.ScalarType()).to(ScalarType.Float32);
                Assert.Equal(expected.data<float>().ToArray(), read.data<float>().ToArray());
                using var copy = new MemoryStream();
                file.CopyBytesTo("w", copy);
                Assert.Equal(file.ReadBytes("w"), copy.ToArray());
            }
        }
        finally
        {
            TensorBytes.SliceBytes = saved;
        }
    }

    [Fact]
    public void Rewriting_what_was_read_gives_the_same_file()
    {
        using var dir = new TempFolder();
        using var a = randn(3, 5);
        using var b = arange(6, dtype: ScalarType.Int64).reshape(2, 3);
        using var c = randn(7);
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        SafetensorsWriter.Write(dir.File("1.safetensors"), [("a", a, SafetensorsDType.BF16), ("b", b, SafetensorsDType.I64), ("c", c, SafetensorsDType.F16)], metadata);
        using (var file = SafetensorsFile.Open(dir.File("1.safetensors")))
        {
            Assert.Equal(["b", "a", "c"], file.Names); // I64, then BF16 before F16, as the reference writer sorts
            Assert.Equal("pt", file.Metadata["format"]);
            var stored = file.Names.Select(n => (n, file.ReadStored(n), file.Info(n).DType)).ToList();
            SafetensorsWriter.Write(dir.File("2.safetensors"), stored, metadata);
            foreach (var (_, t, _) in stored) t.Dispose();
        }
        Assert.Equal(File.ReadAllBytes(dir.File("1.safetensors")), File.ReadAllBytes(dir.File("2.safetensors")));
    }

    [Fact]
    public void Header_is_compact_json_padded_with_spaces_to_a_multiple_of_eight()
    {
        using var dir = new TempFolder();
        using var t = ones(2);
        SafetensorsWriter.Write(dir.File("p.safetensors"), [("x", t, SafetensorsDType.F32)], new Dictionary<string, string> { ["format"] = "pt" });
        byte[] bytes = File.ReadAllBytes(dir.File("p.safetensors"));
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal("""{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", header.TrimEnd(' '));
        Assert.Equal(8 + n + 8, bytes.Length);
    }

    static void WriteRaw(string path, string header, int dataBytes, long? statedLength = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, statedLength ?? json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
    }

    public static TheoryData<string, int, long?, string> HostileHeaders => new()
    {
        { "{}", 0, 1L << 40, "exceeds" },
        { "{}", 0, 1000, "runs past the end of the file" },
        { "not json", 0, null, "not valid JSON" },
        { "[1,2]", 0, null, "not an object" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, null, "tensor 'w': data_offsets [0,8] run past the data section (4 bytes)" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, null, "tensor 'w': data_offsets [8,0] end before" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, null, "'a' [0,8) and 'b' [4,12) overlap" },
        { """{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", 8, null, "tensor 'w': dtype 'Q4' is not supported" },
        { """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, null, "tensor 'w': shape [3] of F32 needs 12 bytes but data_offsets [0,8] hold 8" },
        { """{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, null, "tensor 'w': shape [-2] holds -2" },
        { """{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", 8, null, "tensor 'w': shape [4294967296,4294967296] of F32 needs more than" },
        { """{"w":{"dtype":"F32","shape":[1e3],"data_offsets":[0,8]}}""", 8, null, "tensor 'w': shape [1e3] holds 1e3" },
        { """{"w":{"dtype":"F32","shape":[2]}}""", 8, null, "tensor 'w': has no data_offsets pair" },
        { """{"w":{"shape":[2],"data_offsets":[0,8]}}""", 8, null, "tensor 'w': has no dtype" },
        { """{"__metadata__":{"format":1}}""", 0, null, "__metadata__.format is a JSON Number" },
        { """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, null, "lists 'w' twice" },
    };

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public void Hostile_header_is_refused_naming_the_file_and_field(string header, int dataBytes, long? statedLength, string problem)
    {
        using var dir = new TempFolder();
        string path = dir.File("bad.safetensors");
        WriteRaw(path, header, dataBytes, statedLength);
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(problem, e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void Header_matches_the_reference_writer_byte_for_byte()
    {
        // The reference implementation's own serialization test: one F32 tensor "attn.0" of shape [1,2,3] holding 0..5.
        using var dir = new TempFolder();
        using var t = arange(6, dtype: ScalarType.Float32).reshape(1, 2, 3);
        SafetensorsWriter.Write(dir.File("r.safetensors"), [("attn.0", t, SafetensorsDType.F32)]);
        byte[] expected = [64, 0, 0, 0, 0, 0, 0, 0, .. Encoding.ASCII.GetBytes("""{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"""),
            .. Enumerable.Range(0, 6).SelectMany(i => BitConverter.GetBytes((float)i))];
        Assert.Equal(expected, File.ReadAllBytes(dir.File("r.safetensors")));
    }

    [Fact]
    public void Header_that_is_not_utf8_is_refused()
    {
        using var dir = new TempFolder();
        byte[] json = [.. "{\"w\":\""u8.ToArray(), 0xFF, 0xFE, .. "\"}"u8.ToArray()];
        File.WriteAllBytes(dir.File("u.safetensors"), [.. BitConverter.GetBytes((long)json.Length), .. json]);
        Assert.Contains("header is not valid UTF-8", Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(dir.File("u.safetensors")).Dispose()).Message);
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_is_refused()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("short.safetensors"), [1, 2, 3]);
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(dir.File("short.safetensors")).Dispose());
        Assert.Contains("fewer than the 8-byte header length", e.Message);
    }

    [Fact]
    public void Other_dtypes_read_as_float32()
    {
        using var dir = new TempFolder();
        using var i = tensor(new long[] { -3, 0, 5 });
        using var b = tensor(new[] { true, false, true });
        using var d = tensor(new[] { 0.1, -2.5 });
        SafetensorsWriter.Write(dir.File("o.safetensors"), [("i", i, SafetensorsDType.I64), ("b", b, SafetensorsDType.BOOL), ("d", d, SafetensorsDType.F64)]);
        using var file = SafetensorsFile.Open(dir.File("o.safetensors"));
        using var ri = file.Read("i");
        using var rb = file.Read("b");
        using var rd = file.Read("d");
        Assert.Equal(new[] { -3f, 0f, 5f }, ri.data<float>().ToArray());
        Assert.Equal(new[] { 1f, 0f, 1f }, rb.data<float>().ToArray());
        Assert.Equal(new[] { 0.1f, -2.5f }, rd.data<float>().ToArray());
    }
}
