using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Dropout</c>: the identity (and an all-true mask) unless the module is in training mode; then each element
/// is kept with probability 1 − ratio and scaled by 1 / (1 − ratio). The ratio is an attribute before opset 12
/// and an optional input (default 0.5) from opset 12; a <c>training_mode</c> input that is false keeps the
/// op an identity even while the module trains.
/// </summary>
public sealed class Dropout : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Dropout" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override IReadOnlySet<string> UnreadAttributes { get; } = new HashSet<string> { "seed" };

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool ratioInput = context.Opset >= 12;
        double attributeRatio = node.GetFloat("ratio", 0.5f);
        bool wantMask = node.Outputs.Count > 1 && node.Outputs[1].Length > 0;
        return (inputs, training) =>
        {
            Tensor x = inputs[0]!;
            Tensor? ratioTensor = ratioInput && inputs.Length > 1 ? inputs[1] : null;
            Tensor? trainingMode = ratioInput && inputs.Length > 2 ? inputs[2] : null;
            bool active = training && (trainingMode is null || trainingMode.item<bool>());
            double ratio = ratioTensor is null ? attributeRatio : ratioTensor.to_type(ScalarType.Float64).item<double>();
            if (ratio is < 0 or >= 1)
                throw new GraphException($"node '{node.Name}' (Dropout): ratio {ratio} is outside [0, 1)");
            if (!active || ratio == 0)
                return wantMask ? new[] { x, ones(x.shape, ScalarType.Bool, x.device) } : new[] { x };
            Tensor keep = rand_like(x, ScalarType.Float32) >= ratio;
            Tensor y = x * keep.to_type(x.dtype) / (1 - ratio);
            return wantMask ? new[] { y, keep } : new[] { y };
        };
    }
}
