using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>Reading shape-like arguments (axes, sizes, indices) of the shape, logic and reduction ops.</summary>
static class OpArgs
{
    /// <summary>The values of an integer tensor of rank 0 or 1 (e.g. a shape, axes, repeats).</summary>
    public static long[] Longs(Tensor t) =>
        (t.dtype == ScalarType.Int64 ? t : t.to_type(ScalarType.Int64)).cpu().contiguous().data<long>().ToArray();

    /// <summary>An error that names the node.</summary>
    public static GraphException Error(Node node, string message) => new($"node '{node.Name}' ({node.OpType}): {message}");

    /// <summary><paramref name="axis"/> in [-rank, rank) made non-negative.</summary>
    public static long Axis(Node node, long axis, long rank)
    {
        if (axis < -rank || axis >= rank)
            throw Error(node, $"axis {axis} is out of range for rank {rank}");
        return axis < 0 ? axis + rank : axis;
    }

    /// <summary>Axes made non-negative and checked for repeats, in the given order.</summary>
    public static long[] Axes(Node node, IEnumerable<long> axes, long rank)
    {
        long[] result = axes.Select(a => Axis(node, a, rank)).ToArray();
        if (result.Distinct().Count() != result.Length)
            throw Error(node, $"axes [{string.Join(",", axes)}] repeat an axis");
        return result;
    }

    /// <summary>
    /// The axes of a node that takes them as an attribute before <paramref name="inputSince"/> and as input
    /// <paramref name="inputIndex"/> from that opset on; null when absent. Constant inputs are read once here.
    /// </summary>
    public static Func<Tensor?[], long[]?> AxesArgument(Node node, CompileContext context, int inputSince, int inputIndex)
    {
        if (context.Opset < inputSince)
        {
            long[]? fromAttribute = node.GetInts("axes")?.ToArray();
            return _ => fromAttribute;
        }
        return IntsInput(node, context, inputIndex);
    }

    /// <summary>Reads an optional integer input, once at compile time when it is constant.</summary>
    public static Func<Tensor?[], long[]?> IntsInput(Node node, CompileContext context, int index)
    {
        string? name = node.InputOrNull(index);
        if (name == null) return _ => null;
        if (context.Constant(name) is { } constant)
        {
            long[] values = Longs(constant);
            return _ => values;
        }
        return inputs => inputs[index] is { } t ? Longs(t) : null;
    }

    /// <summary>The shape of a tensor as an array.</summary>
    public static long[] Shape(Tensor t) => t.shape.ToArray();
}
