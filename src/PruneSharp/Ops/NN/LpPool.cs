using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>LpPool</c> over 1, 2 or 3 spatial dimensions: the p-norm (attribute <c>p</c>, default 2) of each window,
/// (Σ|x|^p)^(1/p), with zero padding; kernel_shape, strides, pads, auto_pad, and from opset 18 dilations and ceil_mode.
/// </summary>
public sealed class LpPool : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "LpPool" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var attributes = PoolAttributes.Read(node);
        long p = node.GetInt("p", 2);
        if (p < 1)
            throw new GraphException($"node '{node.Name}' (LpPool): p {p} must be a positive integer");
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            var w = attributes.Resolve(x.shape);
            Tensor powered = p == 1 ? x.abs() : p == 2 ? x.square() : x.abs().pow(p);
            Tensor sums = w.Sum(w.Pad(powered, 0));
            return p == 1 ? sums : p == 2 ? sums.sqrt() : sums.pow(1.0 / p);
        });
    }
}
