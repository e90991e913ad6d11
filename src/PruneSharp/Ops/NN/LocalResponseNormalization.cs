using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>LRN</c>: each element divided by (bias + alpha/size · Σ x²)^beta, the sum over the channels from
/// c − ⌊(size−1)/2⌋ to c + ⌈(size−1)/2⌉ (those that exist).
/// </summary>
public sealed class LocalResponseNormalization : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "LRN" };

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) != null) flow.Block("LRN normalises across neighbouring channels");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        double alpha = node.GetFloat("alpha", 1e-4f), beta = node.GetFloat("beta", 0.75f), bias = node.GetFloat("bias", 1f);
        long size = node.GetInt("size", 0);
        if (size < 1)
            throw new GraphException($"node '{node.Name}' (LRN): attribute size must be a positive integer");
        long before = (size - 1) / 2, after = size - 1 - before;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            if (x.dim() < 3)
                throw new GraphException($"node '{node.Name}' (LRN): input [{string.Join(",", x.shape)}] needs rank >= 3");
            long channels = x.shape[1];
            // Pad the channel axis (second to last in torch's list of (begin, end) pairs from the last dimension).
            var amounts = new long[2 * (x.dim() - 1)];
            amounts[^2] = before;
            amounts[^1] = after;
            Tensor squares = nn.functional.pad(x.square(), amounts);
            Tensor sum = squares.narrow(1, 0, channels);
            for (long k = 1; k < size; k++) sum = sum + squares.narrow(1, k, channels);
            return x / (sum * (alpha / size) + bias).pow(beta);
        });
    }
}
