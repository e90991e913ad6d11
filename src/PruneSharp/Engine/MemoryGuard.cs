using System.Globalization;
using PruneSharp.Graph;
using TorchSharp;

namespace PruneSharp.Engine;

/// <summary>
/// Checks, before a tensor is allocated, that the bytes its shape implies fit in the memory available now, so that
/// an absurd shape (a declared dimension of 10⁹, a mistyped <c>--input-shape</c>) fails with
/// <see cref="TensorTooLargeException"/> naming the tensor and shape instead of aborting inside libtorch's allocator.
/// </summary>
public static class MemoryGuard
{
    /// <summary>
    /// Bytes that may be allocated now: the smaller of the kernel's estimate of available memory
    /// (<c>MemAvailable</c> in /proc/meminfo, where there is one) and the memory limit the runtime sees (a container's included).
    /// </summary>
    public static long AvailableBytes()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
                    return Math.Min(limit, kib * 1024);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return limit;
    }

    /// <summary>The bytes of a tensor of <paramref name="shape"/> and <paramref name="type"/> (∞ when the count overflows).</summary>
    public static double Bytes(IReadOnlyList<long> shape, torch.ScalarType type) =>
        shape.Aggregate((double)ElementSize(type), (bytes, d) => bytes * Math.Max(0, d));

    static int ElementSize(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float64 or torch.ScalarType.Int64 or torch.ScalarType.ComplexFloat32 => 8,
        torch.ScalarType.ComplexFloat64 => 16,
        torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Int16 => 2,
        torch.ScalarType.Bool or torch.ScalarType.Byte or torch.ScalarType.Int8 => 1,
        _ => 4,
    };

    /// <summary>
    /// Throws if the tensors <paramref name="tensors"/> (name, shape, type), allocated together, need more bytes than
    /// are available; the message names the largest tensor and its shape.
    /// </summary>
    /// <exception cref="TensorTooLargeException">They do not fit.</exception>
    public static void Check(IEnumerable<(string Name, IReadOnlyList<long> Shape, torch.ScalarType Type)> tensors)
    {
        var list = tensors.ToList();
        if (list.Count == 0) return;
        double total = list.Sum(t => Bytes(t.Shape, t.Type));
        long available = AvailableBytes();
        if (total <= available) return;
        var largest = list.MaxBy(t => Bytes(t.Shape, t.Type));
        throw new TensorTooLargeException(
            $"input '{largest.Name}' of shape {string.Join("x", largest.Shape)} ({largest.Type}) needs {Size(Bytes(largest.Shape, largest.Type))}" +
            (list.Count > 1 ? $" ({Size(total)} with the other inputs)" : "") + $", more than the {Size(available)} of memory available; give a smaller shape");
    }

    /// <summary>Computed tensors below this size are not checked (reading the available memory costs more than they do).</summary>
    const double UncheckedBytes = 64L << 20;

    /// <summary>
    /// Throws if a tensor that <paramref name="node"/> is about to create, of a shape computed while the graph runs
    /// (<c>ConstantOfShape</c>, <c>Tile</c>, <c>Range</c>), needs more bytes than are available.
    /// </summary>
    /// <exception cref="TensorTooLargeException">It does not fit; the message names the node and the shape.</exception>
    public static void CheckComputed(Node node, IReadOnlyList<long> shape, torch.ScalarType type)
    {
        double bytes = Bytes(shape, type);
        if (bytes < UncheckedBytes) return;
        long available = AvailableBytes();
        if (bytes <= available) return;
        throw new TensorTooLargeException(
            $"node '{node.Name}' ({node.OpType}) would create a tensor of shape {string.Join("x", shape)} ({type}) needing {Size(bytes)}, " +
            $"more than the {Size(available)} of memory available; the shape it computed from the model's values is absurd");
    }

    static string Size(double bytes) =>
        bytes >= 1L << 30 ? (bytes / (1L << 30)).ToString("G4", CultureInfo.InvariantCulture) + " GiB"
        : bytes >= 1L << 20 ? (bytes / (1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB"
        : bytes.ToString("F0", CultureInfo.InvariantCulture) + " bytes";
}

/// <summary>A tensor's shape implies more memory than is available; the message names the tensor and its shape.</summary>
public sealed class TensorTooLargeException(string message) : GraphException(message);
