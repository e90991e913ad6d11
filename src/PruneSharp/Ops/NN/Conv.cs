using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Conv</c> over 1, 2 or 3 spatial dimensions: groups, dilations, strides, explicit pads (also asymmetric)
/// and <c>auto_pad</c> (NOTSET, VALID, SAME_UPPER, SAME_LOWER).
/// </summary>
public sealed class Conv : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Conv" };

    /// <inheritdoc />
    /// <remarks>
    /// Ordinary convolutions read input channels through weight axis 1 and produce a new space of output channels
    /// (weight axis 0, bias). Depthwise convolutions (group = input channels = output channels) pass their input's
    /// channels through. Other grouped convolutions keep their number of groups and shrink every group alike.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        string weight = node.Inputs[1];
        string? bias = node.InputOrNull(2);
        if (!flow.IsWeight(weight) || (bias != null && !flow.IsWeight(bias)) || flow.Input(1) != null)
        {
            if (flow.Input(0) != null || flow.Input(1) != null) flow.Block("Conv weight or bias is computed, not an initializer");
            return;
        }
        var w = flow.Shape(weight)!;
        long groups = node.GetInt("group", 1);
        long inChannels = w[1] * groups;
        ChannelLabel[] outputs;
        if (groups == 1)
        {
            if (flow.Input(0) is { } input)
            {
                if (input.Axis != 1) { flow.Block("Conv input channels on an axis other than 1"); return; }
                flow.Member(weight, 1, input.Labels, WeightRole.Reads);
            }
            outputs = flow.NewSpace((int)w[0]);
        }
        else if (groups == inChannels && w[0] == inChannels)
        {
            // A depthwise filter belongs to its input channel: without prunable input channels (a graph input, or
            // channels left out upstream) there is nothing it could lose on its own.
            if (flow.Input(0) is not { } input) return;
            if (input.Axis != 1) { flow.Block("Conv input channels on an axis other than 1"); return; }
            outputs = input.Labels;
        }
        else
        {
            // Other grouped convolutions: filter j of every group reads slice j of the weight's input axis, so the
            // groups shrink together: input channel j of each group is one channel of the group, and so is output
            // channel j of each group (the number of groups stays).
            if (w[0] % groups != 0) { flow.Block($"grouped convolution: {w[0]} filters do not split into {groups} groups"); return; }
            int perGroupIn = (int)w[1], perGroupOut = (int)(w[0] / groups);
            if (flow.Input(0) is { } input)
            {
                if (input.Axis != 1) { flow.Block("Conv input channels on an axis other than 1"); return; }
                if (input.Labels.Length != inChannels) { flow.Block($"grouped convolution: input has {input.Labels.Length} channels, weight expects {inChannels}"); return; }
                TieAcrossGroups(flow, input.Labels, (int)groups, perGroupIn);
                flow.Member(weight, 1, input.Labels[..perGroupIn], WeightRole.Reads);
            }
            outputs = flow.NewSpace((int)w[0]);
            TieAcrossGroups(flow, outputs, (int)groups, perGroupOut);
        }
        flow.Member(weight, 0, outputs, WeightRole.Produces);
        if (bias != null) flow.Member(bias, 0, outputs, WeightRole.PerChannel);
        flow.SetOutput(0, 1, outputs);
    }

    static void TieAcrossGroups(ChannelFlow flow, ChannelLabel[] labels, int groups, int perGroup)
    {
        for (int g = 1; g < groups; g++)
            flow.Tie(labels[..perGroup], labels[(g * perGroup)..((g + 1) * perGroup)]);
    }

    /// <inheritdoc />
    public override Node Rewire(Node node, RewireContext context)
    {
        long groups = node.GetInt("group", 1);
        // Only depthwise convolutions (one filter per group) change width with their channels.
        if (groups == 1 || context.OriginalShape(node.Inputs[1]) is not { } original || original[0] != groups
            || context.InitializerShape(node.Inputs[1]) is not { } weight || weight[0] == groups) return node;
        var attributes = new Dictionary<string, AttributeValue>(node.Attributes) { ["group"] = AttributeValue.FromInt(weight[0]) };
        return new Node(node.Name, node.OpType, node.Inputs, node.Outputs, attributes, node.Domain);
    }

    /// <inheritdoc />
    public override IReadOnlySet<string> UnreadAttributes { get; } = new HashSet<string> { "kernel_shape" }; // the weight's shape gives it

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long groups = node.GetInt("group", 1);
        IReadOnlyList<long>? strides = node.GetInts("strides"), dilations = node.GetInts("dilations"), pads = node.GetInts("pads");
        string autoPad = node.GetString("auto_pad", "NOTSET");
        return Single(inputs =>
        {
            Tensor x = inputs[0]!, w = inputs[1]!;
            Tensor? b = inputs.Length > 2 ? inputs[2] : null;
            int spatial = (int)x.dim() - 2;
            if (spatial is < 1 or > 3 || w.dim() != x.dim())
                throw new GraphException($"node '{node.Name}' (Conv): input rank {x.dim()} and weight rank {w.dim()} do not describe a 1-3D convolution");
            long[] stride = Spatial(strides, spatial, 1), dilation = Spatial(dilations, spatial, 1);
            long[] kernel = w.shape[2..];
            long[] padding = Padding.Resolve(node, autoPad, pads, x.shape[2..], kernel, stride, dilation);
            var (input, symmetric) = Padding.Apply(x, padding);
            (input, w) = ChannelAlignment.Align(input, w, 1, groups);
            (w, b, long? outputs) = ChannelAlignment.AlignOutputs(input, w, b, groups);
            var y = spatial switch
            {
                1 => nn.functional.conv1d(input, w, b, stride[0], symmetric[0], dilation[0], groups),
                2 => nn.functional.conv2d(input, w, b, stride, symmetric, dilation, groups),
                _ => nn.functional.conv3d(input, w, b, stride, symmetric, dilation, groups),
            };
            return outputs is long count ? y.slice(1, 0, count, 1) : y;
        });
    }

    internal static long[] Spatial(IReadOnlyList<long>? values, int count, long fallback) =>
        values is { Count: > 0 } ? values.ToArray() : Enumerable.Repeat(fallback, count).ToArray();
}

/// <summary>ONNX padding rules shared by convolution and pooling.</summary>
static class Padding
{
    /// <summary>Begin pads then end pads, one per spatial dimension, as ONNX's <c>pads</c> attribute.</summary>
    public static long[] Resolve(Node node, string autoPad, IReadOnlyList<long>? pads, long[] inputSize, long[] kernel, long[] stride, long[] dilation)
    {
        int n = inputSize.Length;
        switch (autoPad)
        {
            case "NOTSET":
                if (pads is { Count: > 0 } && pads.Count != 2 * n)
                    throw new GraphException($"node '{node.Name}' ({node.OpType}): pads has {pads.Count} values, expected {2 * n}");
                return pads is { Count: > 0 } ? pads.ToArray() : new long[2 * n];
            case "VALID":
                return new long[2 * n];
            case "SAME_UPPER":
            case "SAME_LOWER":
                var result = new long[2 * n];
                for (int i = 0; i < n; i++)
                {
                    long output = (inputSize[i] + stride[i] - 1) / stride[i];
                    long total = Math.Max(0, (output - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - inputSize[i]);
                    long small = total / 2, large = total - small;
                    (result[i], result[i + n]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
                }
                return result;
            default:
                throw new GraphException($"node '{node.Name}' ({node.OpType}): auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        }
    }

    /// <summary>
    /// Applies asymmetric padding explicitly (with zeros) and returns the symmetric part for the op itself.
    /// </summary>
    public static (Tensor Input, long[] Symmetric) Apply(Tensor x, long[] pads, double value = 0)
    {
        int n = pads.Length / 2;
        var symmetric = new long[n];
        bool asymmetric = false;
        for (int i = 0; i < n; i++)
        {
            symmetric[i] = Math.Min(pads[i], pads[i + n]);
            asymmetric |= pads[i] != pads[i + n];
        }
        if (!asymmetric) return (x, symmetric);
        // torch's pad lists the last dimension first: (begin, end) pairs.
        var extra = new long[2 * n];
        for (int i = 0; i < n; i++)
        {
            int d = n - 1 - i;
            extra[2 * i] = pads[d] - symmetric[d];
            extra[2 * i + 1] = pads[d + n] - symmetric[d];
        }
        return (nn.functional.pad(x, extra, TorchSharp.PaddingModes.Constant, value), symmetric);
    }
}
