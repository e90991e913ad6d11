using TorchSharp;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// Moves the bytes of contiguous CPU tensors in slices of at most <see cref="SliceBytes"/>, since a span (and
/// <c>Tensor.bytes</c>) cannot reach past 2 GiB and embedding matrices of large models do.
/// </summary>
static class TensorBytes
{
    /// <summary>Largest slice copied at once.</summary>
    public const long SliceBytes = 1L << 28;

    /// <summary>Fills the contiguous CPU tensor <paramref name="target"/> with the bytes at <paramref name="source"/>.</summary>
    public static unsafe void Fill(torch.Tensor target, byte* source)
    {
        using var scope = torch.NewDisposeScope();
        var flat = target.view(-1);
        long elementSize = target.ElementSize, count = flat.shape[0], step = Math.Max(1, SliceBytes / elementSize);
        for (long start = 0; start < count; start += step)
        {
            long n = Math.Min(step, count - start);
            using var slice = flat.narrow(0, start, n);
            new ReadOnlySpan<byte>(source + start * elementSize, checked((int)(n * elementSize))).CopyTo(slice.bytes);
        }
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
    public static unsafe void Write(byte* source, long count, Stream stream)
    {
        for (long start = 0; start < count; start += SliceBytes)
            stream.Write(new ReadOnlySpan<byte>(source + start, (int)Math.Min(SliceBytes, count - start)));
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
