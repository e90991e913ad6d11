using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// Element-wise activations that take attributes (or, for <c>PRelu</c>, a slope input broadcast to the input):
/// LeakyRelu, PRelu, HardSigmoid, Elu, Selu, Celu (opset 12), ThresholdedRelu and Shrink.
/// </summary>
public sealed class Activations : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "LeakyRelu", "PRelu", "HardSigmoid", "Elu", "Selu", "Celu", "ThresholdedRelu", "Shrink" };

    /// <inheritdoc />
    /// <remarks>PRelu's slope is sliced with the channels it broadcasts over; the other activations pass channels through.</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Node.OpType == "PRelu") ChannelRules.Elementwise(flow);
        else ChannelRules.PassThrough(flow);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (node.OpType == "Celu" && context.Opset < 12)
            throw new UnsupportedOpException($"node '{node.Name}': op Celu (opset {context.Opset}) exists from opset 12");
        Func<Tensor?[], Tensor> run = node.OpType switch
        {
            "LeakyRelu" => LeakyRelu(node.GetFloat("alpha", 0.01f)),
            "PRelu" => inputs => where(inputs[0]! < 0, inputs[0]! * inputs[1]!, inputs[0]!),
            "HardSigmoid" => HardSigmoid(node.GetFloat("alpha", 0.2f), node.GetFloat("beta", 0.5f)),
            "Elu" => Elu(node.GetFloat("alpha", 1f)),
            "Selu" => Selu(node.GetFloat("alpha", 1.67326319217681884765625f), node.GetFloat("gamma", 1.05070102214813232421875f)),
            "Celu" => Celu(node.GetFloat("alpha", 1f), node),
            "ThresholdedRelu" => ThresholdedRelu(node.GetFloat("alpha", 1f)),
            _ => Shrink(node.GetFloat("bias", 0f), node.GetFloat("lambd", 0.5f)),
        };
        return Single(run);
    }

    static Func<Tensor?[], Tensor> LeakyRelu(double alpha) => inputs => nn.functional.leaky_relu(inputs[0]!, alpha);

    static Func<Tensor?[], Tensor> HardSigmoid(double alpha, double beta) => inputs => (inputs[0]! * alpha + beta).clamp(0, 1);

    static Func<Tensor?[], Tensor> Elu(double alpha) => inputs => nn.functional.elu(inputs[0]!, alpha);

    static Func<Tensor?[], Tensor> Selu(double alpha, double gamma) => inputs =>
    {
        Tensor x = inputs[0]!;
        return where(x > 0, x, alpha * (x.exp() - 1)) * gamma;
    };

    static Func<Tensor?[], Tensor> Celu(double alpha, Node node)
    {
        if (alpha == 0) throw new GraphException($"node '{node.Name}' (Celu): alpha must not be 0");
        return inputs => nn.functional.celu(inputs[0]!, alpha);
    }

    static Func<Tensor?[], Tensor> ThresholdedRelu(double alpha) => inputs => where(inputs[0]! > alpha, inputs[0]!, zeros_like(inputs[0]!));

    static Func<Tensor?[], Tensor> Shrink(double bias, double lambd) => inputs =>
    {
        Tensor x = inputs[0]!;
        return where(x < -lambd, x + bias, where(x > lambd, x - bias, zeros_like(x)));
    };
}
