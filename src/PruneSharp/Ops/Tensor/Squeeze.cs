using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Squeeze</c>: removes the given size-1 dimensions (every size-1 dimension when no axes are given).
/// Axes are an attribute before opset 13 and an input from 13.
/// </summary>
public sealed class Squeeze : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Squeeze" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var axesOf = OpArgs.AxesArgument(node, context, inputSince: 13, inputIndex: 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] shape = OpArgs.Shape(x);
            long[]? given = axesOf(inputs);
            var removed = given == null
                ? Enumerable.Range(0, shape.Length).Where(d => shape[d] == 1).Select(d => (long)d).ToHashSet()
                : OpArgs.Axes(node, given, shape.Length).ToHashSet();
            foreach (long d in removed)
                if (shape[d] != 1) throw OpArgs.Error(node, $"cannot squeeze axis {d} of size {shape[d]}");
            return x.reshape(shape.Where((_, d) => !removed.Contains(d)).ToArray());
        });
    }
}
