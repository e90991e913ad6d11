using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// Moves the bytes of contiguous CPU tensors in slices of at most <see cref="SliceBytes"/>, since a span (and
/// <c>Tensor.bytes</c>) cannot reach past 2 GiB and embedding matrices of large models do.
/// </summary>
static class TensorBytes
{
    /// <summary>
    /// Largest slice copied at once (any positive multiple of 8 gives the same bytes; tests make it small). 32 MiB: a
    /// mapped source's pages can be dropped slice by slice, so reading a 262 MB embedding table does not hold the table
    /// twice.
    /// </summary>
    public static long SliceBytes { get; set; } = 1L << 25;

    /// <summary>Fills the contiguous CPU tensor <paramref name="target"/> with the bytes at <paramref name="source"/>.</summary>
    /// <param name="target">Where the bytes go.</param>
    /// <param name="source">Where they are read.</param>
    /// <param name="read">Called after each slice with the source's byte offset and count just read (to release them).</param>
    public static unsafe void Fill(torch.Tensor target, byte* source, Action<long, long>? read = null)
    {
        using var scope = torch.NewDisposeScope();
        var flat = target.view(-1);
        long elementSize = target.ElementSize, count = flat.shape[0], step = Math.Max(1, SliceBytes / elementSize);
        for (long start = 0; start < count; start += step)
        {
            long n = Math.Min(step, count - start);
            using var slice = flat.narrow(0, start, n);
            new ReadOnlySpan<byte>(source + start * elementSize, checked((int)(n * elementSize))).CopyTo(slice.bytes);
            read?.Invoke(start * elementSize, n * elementSize);
        }
    }

    /// <summary>
    /// Fills the contiguous float32 CPU tensor <paramref name="target"/> with the F16 or BF16 values at
    /// <paramref name="source"/>, widened exactly (a bfloat16 is the upper half of a float32) without an intermediate tensor.
    /// </summary>
    /// <param name="target">Where the values go.</param>
    /// <param name="source">Where they are read.</param>
    /// <param name="dtype">F16 or BF16.</param>
    /// <param name="read">Called after each slice with the source's byte offset and count just read (to release them).</param>
    public static unsafe void FillWidened(torch.Tensor target, byte* source, SafetensorsDType dtype, Action<long, long>? read = null)
    {
        using var scope = torch.NewDisposeScope();
        var flat = target.view(-1);
        long count = flat.shape[0], step = SliceBytes / sizeof(float);
        for (long start = 0; start < count; start += step)
        {
            int n = (int)Math.Min(step, count - start);
            using var slice = flat.narrow(0, start, n);
            var destination = MemoryMarshal.Cast<byte, float>(slice.bytes);
            if (dtype == SafetensorsDType.F16) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(source + 2 * start, n), destination);
            else WidenBFloat16(new ReadOnlySpan<ushort>(source + 2 * start, n), MemoryMarshal.Cast<float, uint>(destination));
            read?.Invoke(2 * start, 2L * n);
        }
    }

    static void WidenBFloat16(ReadOnlySpan<ushort> source, Span<uint> destination)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<ushort>.Count <= source.Length; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(source.Slice(i, Vector256<ushort>.Count)));
                (lower << 16).CopyTo(destination.Slice(i));
                (upper << 16).CopyTo(destination.Slice(i + Vector256<uint>.Count));
            }
        for (; i < source.Length; i++) destination[i] = (uint)source[i] << 16;
    }

    /// <summary>Writes the bytes of the contiguous CPU tensor <paramref name="tensor"/> to <paramref name="stream"/>.</summary>
    public static void Write(torch.Tensor tensor, Stream stream)
    {
        using var scope = torch.NewDisposeScope();
        var flat = tensor.view(-1);
        long elementSize = tensor.ElementSize, count = flat.shape[0], step = Math.Max(1, SliceBytes / elementSize);
        for (long start = 0; start < count; start += step)
        {
            using var slice = flat.narrow(0, start, Math.Min(step, count - start));
            stream.Write(slice.bytes);
        }
    }

    /// <summary>Writes <paramref name="count"/> bytes starting at <paramref name="source"/> to <paramref name="stream"/>.</summary>
    /// <param name="source">Where the bytes are read.</param>
    /// <param name="count">How many.</param>
    /// <param name="stream">Where they go.</param>
    /// <param name="read">Called after each slice with the byte offset and count just written (to release them).</param>
    public static unsafe void Write(byte* source, long count, Stream stream, Action<long, long>? read = null)
    {
        long slice = SliceBytes; // read once: a test may change it while another thread copies
        for (long start = 0; start < count; start += slice)
        {
            long n = Math.Min(slice, count - start);
            stream.Write(new ReadOnlySpan<byte>(source + start, (int)n));
            read?.Invoke(start, n);
        }
    }

    /// <summary>
    /// <paramref name="values"/> as a contiguous CPU tensor of <paramref name="dtype"/>: torch's own conversion, so
    /// F16 and BF16 round to nearest even as <c>tensor.to(torch.bfloat16)</c> does. The caller owns the result.
    /// </summary>
    public static torch.Tensor Encode(torch.Tensor values, SafetensorsDType dtype)
    {
        using var scope = torch.NewDisposeScope();
        return values.detach().cpu().to(dtype.ScalarType()).contiguous().MoveToOuterDisposeScope();
    }
}
