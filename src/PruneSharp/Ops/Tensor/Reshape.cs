using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Reshape</c>: 0 copies the input's dimension (unless <c>allowzero</c>), -1 is inferred.</summary>
public sealed class Reshape : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Reshape" };

    /// <inheritdoc />
    /// <remarks>Supports the flattening reshape [N, C, ...] → [N, C·...]; other reshapes of channels block.</remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(1) != null) { flow.Block("Reshape target carries channels"); return; }
        if (flow.Input(0) is not { } channels) return;
        var input = flow.Shape(flow.Node.Inputs[0])!;
        var output = flow.Shape(flow.Node.Outputs[0])!;
        if (channels.Axis != 1 || output.Length != 2 || output[0] != input[0])
        {
            flow.Block("Reshape of channels other than flattening [N, C, ...] -> [N, C*...]");
            return;
        }
        flow.SetOutput(0, 1, ChannelRules.Blocks(channels.Labels, input.Skip(2).Aggregate(1L, (p, s) => p * s)));
    }

    /// <inheritdoc />
    /// <remarks>A flattening target that spells the feature count out becomes −1, so it fits the narrower input.</remarks>
    public override Node Rewire(Node node, RewireContext context)
    {
        if (context.Constant(node.Inputs[1]) is { } target && target.numel() == 2 && target[1].item<long>() > 0)
            context.SetConstant(node.Inputs[1], TorchSharp.torch.tensor(new[] { target[0].item<long>(), -1L }));
        return node;
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool allowZero = node.GetInt("allowzero", 0) != 0;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] shape = inputs[1]!.data<long>().ToArray();
            if (!allowZero)
                for (int d = 0; d < shape.Length; d++)
                    if (shape[d] == 0)
                    {
                        if (d >= x.dim()) throw new GraphException($"node '{node.Name}' (Reshape): shape entry {d} is 0 but the input has rank {x.dim()}");
                        shape[d] = x.shape[d];
                    }
            return x.reshape(shape);
        });
    }
}
