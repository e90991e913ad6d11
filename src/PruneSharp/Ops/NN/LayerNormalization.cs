using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>LayerNormalization</c> (opset 17): normalises over the dimensions from <c>axis</c> (default -1) to the
/// last, in the precision of <c>stash_type</c> (default float), then applies Scale and the optional B
/// (both broadcast to the normalised shape). The optional outputs Mean and InvStdDev keep the normalised
/// dimensions with size 1.
/// </summary>
public sealed class LayerNormalization : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "LayerNormalization" };

    /// <inheritdoc />
    /// <remarks>
    /// ONNX defines the op from opset 17; below that it appears only where <see cref="Graph.Passes.LayerNormFusion"/>
    /// fused the exporter's decomposition, and the ONNX writer writes it back decomposed.
    /// </remarks>
    public override int MinOpset => 1;

    /// <inheritdoc />
    /// <remarks>Channels pass through when they lie before the normalised axes; removing normalised features would change the statistics, so that blocks.</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        int rank = flow.Shape(flow.Node.Inputs[0])!.Length;
        long axis = flow.Node.GetInt("axis", -1);
        if (axis < 0) axis += rank;
        if (channels.Axis < axis) { ChannelRules.PassThrough(flow); return; }
        if (axis != rank - 1 || channels.Axis != rank - 1) { flow.Block("layer normalisation statistics run over the channels and other axes"); return; }
        // Normalised over the channels alone (a transformer's hidden size, ConvNeXt's channels-last LayerNorm): the
        // channels can go with their scale and shift, but the rest are then normalised by their own statistics.
        for (int i = 1; i < flow.Node.Inputs.Count; i++)
        {
            string? name = flow.Node.InputOrNull(i);
            if (name == null) continue;
            if (!flow.IsWeight(name) || flow.Shape(name) is not { Length: 1 } shape || shape[0] != channels.Labels.Length)
            {
                flow.Block($"LayerNormalization input {i} is not a weight of one value per channel");
                return;
            }
            flow.Member(name, 0, channels.Labels, WeightRole.PerChannel);
        }
        flow.Approximate("layer normalisation statistics run over the channels (the channels that stay are renormalised)");
        flow.SetOutput(0, channels.Axis, channels.Labels);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long axis = node.GetInt("axis", -1);
        double epsilon = node.GetFloat("epsilon", 1e-5f);
        long stashType = node.GetInt("stash_type", 1);
        ScalarType stash;
        try
        {
            stash = ((DataType)stashType).ToScalarType();
        }
        catch (NotSupportedException)
        {
            throw new GraphException($"node '{node.Name}' (LayerNormalization): stash_type {stashType} is not a supported element type");
        }
        bool statistics = node.Outputs.Skip(1).Any(o => o.Length > 0);
        return (inputs, _) =>
        {
            Tensor x = inputs[0]!, scale = inputs[1]!;
            Tensor? bias = inputs.Length > 2 ? inputs[2] : null;
            long rank = x.dim();
            if (axis < -rank || axis >= rank)
                throw new GraphException($"node '{node.Name}' (LayerNormalization): axis {axis} is out of range for rank {rank}");
            long a = axis < 0 ? axis + rank : axis;
            long[] normalized = x.shape[(int)a..];
            bool plain = !statistics && stash == x.dtype && scale.shape.SequenceEqual(normalized)
                         && (bias is null || bias.shape.SequenceEqual(normalized));
            if (plain)
                return new[] { nn.functional.layer_norm(x, normalized, scale, bias, epsilon) };

            long[] dims = Enumerable.Range((int)a, (int)(rank - a)).Select(d => (long)d).ToArray();
            Tensor s = x.to_type(stash);
            Tensor mean = s.mean(dims, keepdim: true);
            Tensor centered = s - mean;
            Tensor invStd = (centered.square().mean(dims, keepdim: true) + epsilon).rsqrt();
            Tensor y = (centered * invStd).to_type(x.dtype) * scale;
            if (bias is not null) y = y + bias;
            return new[] { y, mean, invStd };
        };
    }
}
