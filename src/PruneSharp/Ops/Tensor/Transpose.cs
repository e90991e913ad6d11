using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Transpose</c>: permutes the dimensions by <c>perm</c>, reversing them when it is absent.</summary>
public sealed class Transpose : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Transpose" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) is not { } channels) return;
        int rank = flow.Shape(flow.Node.Inputs[0])!.Length;
        var perm = flow.Node.GetInts("perm") ?? Enumerable.Range(0, rank).Reverse().Select(d => (long)d).ToList();
        flow.SetOutput(0, perm.ToList().IndexOf(channels.Axis), channels.Labels);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long[]? perm = node.GetInts("perm")?.ToArray();
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long rank = x.dim();
            long[] p = perm ?? Enumerable.Range(0, (int)rank).Reverse().Select(d => (long)d).ToArray();
            if (p.Length != rank || !p.Order().SequenceEqual(Enumerable.Range(0, (int)rank).Select(d => (long)d)))
                throw OpArgs.Error(node, $"perm [{string.Join(",", p)}] is not a permutation of the input's {rank} dimensions");
            return x.permute(p);
        });
    }
}
