using PruneSharp.Files;
using TorchSharp;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// Writes safetensors files: the length prefix, a compact JSON header (<c>__metadata__</c> first, then the tensors in
/// data order, padded with spaces to a multiple of 8 bytes as the Hugging Face writer does), then each tensor's bytes,
/// back to back. Files are written atomically (a temporary file in the same folder, then a rename).
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/>, each converted to its dtype (F16 and BF16 round to nearest even, as torch's
    /// <c>.to()</c> does), with <paramref name="metadata"/> as <c>__metadata__</c> (none when null). Tensors are stored
    /// as the Hugging Face writer orders them: by dtype (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL), then by
    /// name, so the same tensors always give the same file.
    /// </summary>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public static void Write(string path, IEnumerable<(string Name, torch.Tensor Tensor, SafetensorsDType DType)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderBy(t => t.DType.WriteOrder()).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        var duplicate = ordered.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new ArgumentException($"tensor '{duplicate.Key}' is given twice", nameof(tensors));
        var planned = ordered.Select(t => new PlannedTensor(t.Name, t.DType, t.Tensor.shape, stream =>
        {
            using var encoded = TensorBytes.Encode(t.Tensor, t.DType);
            TensorBytes.Write(encoded, stream);
        })).ToList();
        AtomicFile.Write(path, stream => Write(stream, planned, metadata, path));
    }

    /// <summary>
    /// Writes a file whose tensors' bytes come from callbacks, called in order, one at a time, so that only one tensor
    /// need be in memory. Each callback must write exactly its tensor's byte count.
    /// </summary>
    internal static void Write(Stream stream, IReadOnlyList<PlannedTensor> tensors, IReadOnlyDictionary<string, string>? metadata,
        string path, CancellationToken cancellation = default)
    {
        var infos = new List<SafetensorsTensorInfo>(tensors.Count);
        long offset = 0;
        foreach (var tensor in tensors)
        {
            long bytes = tensor.Shape.Aggregate((long)tensor.DType.ElementSize(), (a, b) => checked(a * b));
            infos.Add(new SafetensorsTensorInfo(tensor.Name, tensor.DType, tensor.Shape, offset, offset + bytes));
            offset += bytes;
        }
        stream.Write(SafetensorsHeader.Serialize(infos, metadata));
        for (int i = 0; i < tensors.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            long before = stream.Position;
            tensors[i].WriteData(stream);
            long written = stream.Position - before;
            if (written != infos[i].ByteCount)
                throw new InvalidOperationException($"{path}: tensor '{infos[i].Name}' wrote {written} bytes, expected {infos[i].ByteCount}");
        }
    }
}

/// <summary>A tensor to be written: its header entry and a callback that writes its bytes.</summary>
sealed record PlannedTensor(string Name, SafetensorsDType DType, long[] Shape, Action<Stream> WriteData);
