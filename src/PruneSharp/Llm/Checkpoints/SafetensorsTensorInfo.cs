namespace PruneSharp.Llm.Checkpoints;

/// <summary>One tensor's entry in a safetensors header: its element type, shape and byte range in the data section.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">The element type of the stored bytes.</param>
/// <param name="Shape">The shape (row-major, possibly empty for a scalar).</param>
/// <param name="Begin">First byte, relative to the start of the data section.</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of stored bytes (<see cref="End"/> − <see cref="Begin"/>).</summary>
    public long ByteCount => End - Begin;

    /// <summary>Number of elements (product of the shape).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
