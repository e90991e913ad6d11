using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PruneSharp.Sparse;

/// <summary>
/// One value of a <see cref="CompiledPlan"/>: a float array on the pinned heap (its address is fixed for the plan's
/// lifetime) and the value's shape. Views (Reshape, Flatten, Squeeze …) share the array with another shape.
/// </summary>
internal sealed unsafe class PlanBuffer
{
    PlanBuffer(float[] data, long[] shape)
    {
        Data = data;
        Shape = shape;
    }

    public float[] Data { get; }
    public long[] Shape { get; }
    public long Length => Data.LongLength;
    public float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Data));

    /// <summary>A zeroed buffer of <paramref name="shape"/>.</summary>
    public static PlanBuffer Allocate(long[] shape) => new(GC.AllocateArray<float>(checked((int)Elements(shape)), pinned: true), shape);

    /// <summary>The same values seen with <paramref name="shape"/> (same element count).</summary>
    public PlanBuffer View(long[] shape) => new(Data, shape);

    public static long Elements(IEnumerable<long> shape) => shape.Aggregate(1L, (a, b) => a * b);
}
