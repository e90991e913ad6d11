using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>AveragePool</c> over 1, 2 or 3 spatial dimensions: kernel_shape, strides, dilations (opset 19), pads
/// (asymmetric too), auto_pad, ceil_mode and count_include_pad. The divisor counts the window's taps inside
/// the input, or inside input and pads with count_include_pad; ceil_mode's partial windows never count the
/// part beyond the pads.
/// </summary>
public sealed class AveragePool : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "AveragePool" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var attributes = PoolAttributes.Read(node);
        bool includePad = node.GetInt("count_include_pad", 0) != 0;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            var w = attributes.Resolve(x.shape);
            Tensor padded = w.Pad(x, 0);
            Tensor counts = includePad
                ? w.Counts(d => -w.Begin[d], d => w.Input[d] + w.EndPads[d], x.dtype, x.device)
                : w.Counts(_ => 0, d => w.Input[d], x.dtype, x.device);
            if (w.Dilations.All(d => d == 1))
                return w.Average(padded) * (w.KernelVolume / counts);
            return w.Sum(padded) / counts;
        });
    }
}
