using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PruneSharp.Files;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Masks;

/// <summary>
/// Reads and writes masks in the safetensors layout: an 8-byte little-endian header length, a JSON header that maps
/// each parameter name to <c>{"dtype":"BOOL","shape":[...],"data_offsets":[begin,end]}</c> (offsets into the data
/// section), then the raw mask bytes (one byte, 0 or 1, per entry, row-major). The header's <c>__metadata__</c> holds
/// <c>"format": "prunesharp-masks"</c> and the format version. Files are written atomically (a temporary file in the
/// same folder, then a rename).
/// </summary>
public static class MaskFile
{
    const string Format = "prunesharp-masks";
    const string Version = "1";
    const long MaxHeader = 100L << 20;

    /// <summary>Writes the masks of <paramref name="masks"/> to <paramref name="path"/>, replacing it atomically.</summary>
    public static void Save(MaskSet masks, string path)
    {
        AtomicFile.Write(path, stream => Write(masks.StateDict(), stream));
    }

    /// <summary>Loads the masks in <paramref name="path"/> into <paramref name="masks"/> (replacing its masks) and applies them.</summary>
    /// <exception cref="PruningException">The file is malformed or its masks do not fit the module; the message names the file.</exception>
    public static void Load(MaskSet masks, string path)
    {
        Dictionary<string, Tensor> loaded;
        using (var stream = File.OpenRead(path)) loaded = Read(stream, path);
        try
        {
            masks.LoadStateDict(loaded);
        }
        catch (PruningException e)
        {
            throw new PruningException($"{path}: {e.Message}", e);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    /// <summary>Writes masks (name → 0/1 or bool tensor) to <paramref name="stream"/>, e.g. a checkpoint's extra-state entry.</summary>
    public static void Write(IReadOnlyDictionary<string, Tensor> masks, Stream stream)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = Format, ["version"] = Version } };
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, mask) in masks.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            byte[] data = mask.to(ScalarType.Bool).cpu().contiguous().to(ScalarType.Byte).data<byte>().ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = "BOOL",
                ["shape"] = new JsonArray(mask.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + data.Length),
            };
            offset += data.Length;
            blobs.Add(data);
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var blob in blobs) stream.Write(blob);
    }

    /// <summary>Reads masks written by <see cref="Write"/>; <paramref name="source"/> names the stream in error messages.</summary>
    /// <exception cref="PruningException">The data is not a mask file or is truncated or inconsistent.</exception>
    public static Dictionary<string, Tensor> Read(Stream stream, string source = "mask stream")
    {
        var lengthBytes = new byte[8];
        ReadExactly(stream, lengthBytes, source, "header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0 || headerLength > MaxHeader)
            throw new PruningException($"{source}: header length {headerLength} is not plausible; not a mask file");
        var json = new byte[headerLength];
        ReadExactly(stream, json, source, "header");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(json) as JsonObject ?? throw new PruningException($"{source}: header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new PruningException($"{source}: header is not valid JSON ({e.Message})", e);
        }
        if (header["__metadata__"]?["format"]?.GetValue<string>() != Format)
            throw new PruningException($"{source}: __metadata__.format is not '{Format}'; not a PruneSharp mask file");
        string? version = header["__metadata__"]?["version"]?.GetValue<string>();
        if (version != Version)
            throw new PruningException($"{source}: mask format version '{version}' is not supported (expected {Version})");

        var entries = new List<(string Name, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            string? dtype = node?["dtype"]?.GetValue<string>();
            if (dtype != "BOOL") throw new PruningException($"{source}: mask '{name}' has dtype '{dtype}', expected BOOL");
            long[] shape = (node!["shape"] as JsonArray)?.Select(d => d!.GetValue<long>()).ToArray()
                ?? throw new PruningException($"{source}: mask '{name}' has no shape");
            var offsets = node["data_offsets"] as JsonArray;
            if (offsets is not { Count: 2 }) throw new PruningException($"{source}: mask '{name}' has no data_offsets pair");
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (shape.Any(d => d < 0) || end - begin != count || begin < 0)
                throw new PruningException($"{source}: mask '{name}' has shape [{string.Join(",", shape)}] but data_offsets [{begin},{end}]");
            entries.Add((name, shape, begin, end));
        }
        long total = entries.Count == 0 ? 0 : entries.Max(e => e.End);
        var data = new byte[total];
        ReadExactly(stream, data, source, "mask data");
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, shape, begin, end) in entries)
        {
            var bytes = data.AsSpan((int)begin, (int)(end - begin)).ToArray();
            if (bytes.Any(b => b > 1)) throw new PruningException($"{source}: mask '{name}' holds bytes other than 0 and 1");
            result[name] = tensor(bytes, shape, ScalarType.Byte).to(ScalarType.Bool).DetachFromDisposeScope();
        }
        return result;
    }

    static void ReadExactly(Stream stream, byte[] buffer, string source, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new PruningException($"{source}: file ends inside the {what}; truncated mask file", e);
        }
    }
}
