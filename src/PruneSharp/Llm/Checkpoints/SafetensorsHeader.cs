using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// The JSON header of a safetensors file, validated before anything else is read or allocated: its length is plausible
/// and inside the file, every tensor has a known dtype, a non-negative shape and a byte range inside the data section
/// that fits its dtype and shape exactly, no two ranges overlap, and <c>__metadata__</c> maps strings to strings.
/// </summary>
sealed class SafetensorsHeader(IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata, long dataStart)
{
    /// <summary>Largest header accepted, as in the reference implementation.</summary>
    public const long MaxLength = 100_000_000;

    const string MetadataKey = "__metadata__";

    /// <summary>The tensors in data order (increasing offsets, then name).</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; } = tensors;

    /// <summary>The <c>__metadata__</c> entries (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    /// <summary>File offset of the data section (8 + header length).</summary>
    public long DataStart { get; } = dataStart;

    /// <summary>
    /// Validates the header held in <paramref name="prefix"/> (the file's first bytes: at least 8, and all of the
    /// header when the stated length fits in the file) for a file of <paramref name="fileLength"/> (≥ 8) bytes.
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> prefix, long fileLength, string path)
    {
        ulong stated = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (stated > MaxLength)
            throw new CheckpointFormatException(path, $"header length {stated} exceeds the {MaxLength}-byte limit; not a safetensors file");
        if ((long)stated > fileLength - 8)
            throw new CheckpointFormatException(path, $"header length {stated} runs past the end of the file ({fileLength} bytes); truncated or not a safetensors file");
        long length = (long)stated;
        long dataStart = 8 + length;
        long dataLength = fileLength - dataStart;

        var json = prefix.Slice(8, (int)length);
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw new CheckpointFormatException(path, "header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"header is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"header is a JSON {document.RootElement.ValueKind}, not an object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw new CheckpointFormatException(path, $"header lists '{property.Name}' twice");
                if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, path);
                else tensors.Add(ReadTensor(property.Name, property.Value, dataLength, path));
            }
            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
                : a.End != b.End ? a.End.CompareTo(b.End) : string.CompareOrdinal(a.Name, b.Name));
            for (int i = 1; i < tensors.Count; i++)
                if (tensors[i].Begin < tensors[i - 1].End)
                    throw new CheckpointFormatException(path, $"tensors '{tensors[i - 1].Name}' [{tensors[i - 1].Begin},{tensors[i - 1].End}) and '{tensors[i].Name}' [{tensors[i].Begin},{tensors[i].End}) overlap");
            return new SafetensorsHeader(tensors, metadata, dataStart);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object) throw new CheckpointFormatException(path, $"{MetadataKey} is a JSON {value.ValueKind}, not an object of strings");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(path, $"{MetadataKey}.{entry.Name} is a JSON {entry.Value.ValueKind}; metadata values must be strings");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    static SafetensorsTensorInfo ReadTensor(string name, JsonElement value, long dataLength, string path)
    {
        CheckpointFormatException Error(string problem) => new(path, $"tensor '{name}': {problem}");
        if (value.ValueKind != JsonValueKind.Object) throw Error($"entry is a JSON {value.ValueKind}, not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Error("has no dtype string");
        string dtypeName = dtypeElement.GetString()!;
        var dtype = SafetensorsDTypes.Parse(dtypeName) ?? throw Error($"dtype '{dtypeName}' is not supported (known: {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Error("has no shape array");
        var shape = new long[shapeElement.GetArrayLength()];
        int d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw Error($"shape {shapeElement.GetRawText()} holds {dim.GetRawText()}, not a non-negative 64-bit integer");
            shape[d++] = size;
        }
        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw Error("has no data_offsets pair");
        var offsets = new long[2];
        int k = 0;
        foreach (var offset in offsetsElement.EnumerateArray())
        {
            if (offset.ValueKind != JsonValueKind.Number || !offset.TryGetInt64(out long o) || o < 0)
                throw Error($"data_offsets {offsetsElement.GetRawText()} holds {offset.GetRawText()}, not a non-negative 64-bit integer");
            offsets[k++] = o;
        }
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw Error($"data_offsets [{begin},{end}] end before they begin");
        if (end > dataLength) throw Error($"data_offsets [{begin},{end}] run past the data section ({dataLength} bytes)");
        long bytes = dtype.ElementSize();
        foreach (long size in shape)
        {
            if (size != 0 && bytes > long.MaxValue / size)
                throw Error($"shape [{string.Join(",", shape)}] of {dtype} needs more than {long.MaxValue} bytes");
            bytes *= size;
        }
        if (bytes != end - begin)
            throw Error($"shape [{string.Join(",", shape)}] of {dtype} needs {bytes} bytes but data_offsets [{begin},{end}] hold {end - begin}");
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    /// <summary>
    /// The length prefix and header of a file holding <paramref name="tensors"/> (offsets already set) and
    /// <paramref name="metadata"/> (left out when null): compact JSON with <c>__metadata__</c> first and the tensors
    /// in data order, padded with spaces to a multiple of 8 bytes as the Hugging Face writer does.
    /// </summary>
    public static byte[] Serialize(IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata != null)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var tensor in tensors)
            {
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", tensor.DType.ToString());
                writer.WriteStartArray("shape");
                foreach (long size in tensor.Shape) writer.WriteNumberValue(size);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(tensor.Begin);
                writer.WriteNumberValue(tensor.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int json = (int)buffer.Length;
        int padded = (json + 7) / 8 * 8;
        var result = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        buffer.GetBuffer().AsSpan(0, json).CopyTo(result.AsSpan(8));
        result.AsSpan(8 + json).Fill((byte)' ');
        return result;
    }
}
