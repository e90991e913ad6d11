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
    /// <remarks>
    /// Along the channel axis, output k carries the input's channels at its offset (Concat in reverse); the sizes must
    /// be constants, since surgery rewrites them. Along another axis every output carries the input's channels.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        if (flow.Input(1) != null) { flow.Block("Split sizes carry channels"); return; }
        if (flow.Input(0) is not { } channels) return;
        var input = flow.Shape(node.Inputs[0])!;
        long axis = node.GetInt("axis", 0);
        if (axis < 0) axis += input.Length;
        if (axis == channels.Axis && node.InputOrNull(1) is { } sizes && flow.Constant(sizes) is null)
        {
            flow.Block("Split sizes are computed at run time");
            return;
        }
        int offset = 0;
        var parts = new List<(int Output, long[] Shape)>();
        for (int k = 0; k < node.Outputs.Count; k++)
        {
            if (node.Outputs[k].Length == 0 || flow.Shape(node.Outputs[k]) is not { } shape) { flow.Block($"Split output {k} is not observed"); return; }
            parts.Add((k, shape));
        }
        foreach (var (k, shape) in parts)
        {
            if (axis != channels.Axis) { flow.SetOutput(k, channels.Axis, channels.Labels); continue; }
            int length = (int)shape[axis];
            flow.SetOutput(k, channels.Axis, channels.Labels[offset..(offset + length)]);
            offset += length;
        }
    }

    /// <inheritdoc />
    /// <remarks>When parts lost channels, the sizes are written out (attribute before opset 13, a new constant input from 13).</remarks>
    public override Node Rewire(Node node, RewireContext context)
    {
        var survivors = node.Outputs.Select(context.Survivors).ToList();
        var input = context.OriginalShape(node.Inputs[0]);
        if (input == null || survivors.All(s => s == null)) return node;
        long axis = node.GetInt("axis", 0);
        if (axis < 0) axis += input.Length;
        if (survivors.Any(s => s != null && s.Axis != axis)) return node;
        long[] sizes = node.Outputs.Select((o, k) => (long)(survivors[k]?.Count ?? context.OriginalShape(o)![axis])).ToArray();
        var attributes = new Dictionary<string, AttributeValue>(node.Attributes);
        var inputs = node.Inputs.ToList();
        if (context.Opset < 13) attributes["split"] = AttributeValue.FromInts(sizes);
        else
        {
            string name = context.AddConstant($"{node.Name}.split_sizes", tensor(sizes));
            if (inputs.Count > 1) inputs[1] = name; else inputs.Add(name);
            attributes.Remove("num_outputs");
        }
        return new Node(node.Name, node.OpType, inputs, node.Outputs, attributes, node.Domain);
    }

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
