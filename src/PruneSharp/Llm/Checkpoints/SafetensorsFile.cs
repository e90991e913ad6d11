using System.IO.MemoryMappedFiles;
using TorchSharp;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// A safetensors file opened for reading: an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the data. The header is validated in full when the file is opened (see
/// <see cref="CheckpointFormatException"/> for what is refused); the data is memory-mapped and each tensor is read
/// only when asked for, so opening a large checkpoint costs its header alone.
/// </summary>
public sealed unsafe class SafetensorsFile : ITensorSource, IDisposable
{
    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    readonly byte* start;
    readonly Dictionary<string, SafetensorsTensorInfo> byName;
    readonly string[] names;
    bool disposed;

    SafetensorsFile(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* start, SafetensorsHeader header)
    {
        Path = path;
        FileLength = length;
        this.map = map;
        this.view = view;
        this.start = start;
        Tensors = header.Tensors;
        Metadata = header.Metadata;
        DataStart = header.DataStart;
        byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        names = header.Tensors.Select(t => t.Name).ToArray();
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The header is not a valid safetensors header; the message names the tensor or field.</exception>
    public static SafetensorsFile Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"{path}: safetensors file does not exist", path);
        long length = new FileInfo(full).Length;
        if (length < 8) throw new CheckpointFormatException(path, $"file has {length} bytes, fewer than the 8-byte header length; not a safetensors file");
        var map = MemoryMappedFile.CreateFromFile(full, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        byte* start = null;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            start += view.PointerOffset;
            // Parse reads the header length first and only then touches the header, so a huge stated length is refused
            // before the span below is used beyond the 8 bytes.
            var prefix = new ReadOnlySpan<byte>(start, (int)Math.Min(length, 8 + SafetensorsHeader.MaxLength));
            var header = SafetensorsHeader.Parse(prefix, length, path);
            return new SafetensorsFile(path, length, map, view!, start, header);
        }
        catch
        {
            if (start != null) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>The file as given to <see cref="Open"/>.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes.</summary>
    public long FileLength { get; }

    /// <summary>File offset of the data section.</summary>
    public long DataStart { get; }

    /// <summary>Every tensor's header entry, in data order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> Names => names;

    /// <inheritdoc/>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafetensorsTensorInfo Info(string name) =>
        byName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <inheritdoc/>
    public long[] Shape(string name) => (long[])Info(name).Shape.Clone();

    /// <inheritdoc/>
    public torch.Tensor Read(string name)
    {
        var info = Info(name);
        if (info.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16))
        {
            using var stored = ReadStored(name);
            return stored.to(torch.ScalarType.Float32);
        }
        var tensor = torch.empty(info.Shape, torch.ScalarType.Float32);
        if (info.DType == SafetensorsDType.F32) TensorBytes.Fill(tensor, DataPointer(info), (offset, count) => Release(info, offset, count));
        else TensorBytes.FillWidened(tensor, DataPointer(info), info.DType, (offset, count) => Release(info, offset, count));
        return tensor;
    }

    /// <summary>A new CPU tensor holding the stored bytes of <paramref name="name"/> in their own element type (BF16 stays BF16).</summary>
    public torch.Tensor ReadStored(string name)
    {
        var info = Info(name);
        var tensor = torch.empty(info.Shape, info.DType.ScalarType());
        TensorBytes.Fill(tensor, DataPointer(info), (offset, count) => Release(info, offset, count));
        return tensor;
    }

    /// <summary>The stored bytes of <paramref name="name"/>, for bit-exact copying of a small tensor.</summary>
    public byte[] ReadBytes(string name)
    {
        var info = Info(name);
        return new ReadOnlySpan<byte>(DataPointer(info), checked((int)info.ByteCount)).ToArray();
    }

    /// <summary>Writes the stored bytes of <paramref name="name"/> to <paramref name="destination"/>, unchanged and in slices.</summary>
    public void CopyBytesTo(string name, Stream destination)
    {
        var info = Info(name);
        TensorBytes.Write(DataPointer(info), info.ByteCount, destination, (offset, count) => Release(info, offset, count));
    }

    /// <summary>
    /// Drops the pages of a slice of a tensor just copied out of the mapping (<paramref name="count"/> bytes from
    /// <paramref name="offset"/> of its data) from this process's resident memory (they stay in the kernel's page cache
    /// and are read again if touched). Without it, every page read so far would count in the process's resident size
    /// until the file is closed, and a layer-by-layer pass over a checkpoint would end up "holding" all of it; slice by
    /// slice, a large tensor is not held twice while it is copied.
    /// </summary>
    void Release(SafetensorsTensorInfo info, long offset, long count)
    {
        if (!OperatingSystem.IsLinux() || count == 0) return;
        long page = Environment.SystemPageSize;
        long begin = (long)DataPointer(info) + offset, end = begin + count;
        long first = begin / page * page, last = (end + page - 1) / page * page;
        madvise((IntPtr)first, (UIntPtr)(ulong)(last - first), DontNeed);
    }

    const int DontNeed = 4; // MADV_DONTNEED: harmless on a read-only shared file mapping, the pages are re-read on access

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int madvise(IntPtr address, UIntPtr length, int advice);

    byte* DataPointer(SafetensorsTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return start + DataStart + info.Begin;
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
