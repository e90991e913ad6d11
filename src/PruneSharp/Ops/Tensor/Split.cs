using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Split</c>: cuts the input along <c>axis</c> into the node's outputs. The sizes come from the <c>split</c>
/// attribute (before opset 13) or input (from 13); without them (or given empty) the parts are equal, and from opset 18
/// <c>num_outputs</c> parts of ceil(n / num_outputs) with a smaller last part.
/// </summary>
public sealed class Split : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Split" };

    /// <inheritdoc />
    public override int MinOpset => 2;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long axis = node.GetInt("axis", 0);
        int outputs = node.Outputs.Count;
        long? numOutputs = context.Opset >= 18 && node.Attributes.ContainsKey("num_outputs") ? node.GetInt("num_outputs", 0) : null;
        if (numOutputs is long n && n != outputs)
            throw OpArgs.Error(node, $"num_outputs is {n} but the node has {outputs} outputs");
        Func<Tensor?[], long[]?> sizes = context.Opset < 13
            ? (node.GetInts("split")?.ToArray() is { } fixedSizes ? _ => fixedSizes : _ => null)
            : OpArgs.IntsInput(node, context, 1);
        return (inputs, _) =>
        {
            Tensor x = inputs[0]!;
            long a = OpArgs.Axis(node, axis, x.dim());
            long length = x.shape[a];
            long[] parts = sizes(inputs) is { Length: > 0 } given ? given : EqualParts(node, length, outputs, ceiling: numOutputs != null);
            if (parts.Length != outputs || parts.Any(s => s < 0) || parts.Sum() != length)
                throw OpArgs.Error(node, $"split sizes [{string.Join(",", parts)}] do not cut length {length} into {outputs} parts");
            return x.split(parts, a);
        };
    }

    static long[] EqualParts(Node node, long length, int count, bool ceiling)
    {
        if (ceiling)
        {
            long chunk = (length + count - 1) / count;
            return Enumerable.Range(0, count).Select(i => Math.Clamp(length - i * chunk, 0, chunk)).ToArray();
        }
        if (length % count != 0)
            throw OpArgs.Error(node, $"length {length} cannot be split into {count} equal parts");
        return Enumerable.Repeat(length / count, count).ToArray();
    }
}
