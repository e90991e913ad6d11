using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Concat</c>: joins the inputs along <c>axis</c> (negative counts from the end).</summary>
public sealed class Concat : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Concat" };

    /// <inheritdoc />
    public override int MinOpset => 4;

    /// <inheritdoc />
    /// <remarks>
    /// Along the channel axis the output carries each input's channels at its offset (positions from inputs without
    /// channels carry none); along another axis the inputs' channels are tied.
    /// </remarks>
    public override void FlowChannels(ChannelFlow flow)
    {
        var node = flow.Node;
        var labeled = Enumerable.Range(0, node.Inputs.Count).Where(i => flow.Input(i) != null).ToList();
        if (labeled.Count == 0) return;
        int rank = flow.Shape(node.Inputs[0])!.Length;
        long axis = node.GetInt("axis", 0);
        if (axis < 0) axis += rank;
        if (labeled.Any(i => flow.Input(i)!.Axis == axis))
        {
            if (labeled.Any(i => flow.Input(i)!.Axis != axis)) { flow.Block("inputs carry channels on different axes"); return; }
            var labels = new List<ChannelLabel>();
            for (int i = 0; i < node.Inputs.Count; i++)
                labels.AddRange(flow.Input(i)?.Labels ?? Enumerable.Repeat(ChannelLabel.None, (int)flow.Shape(node.Inputs[i])![axis]));
            flow.SetOutput(0, (int)axis, labels.ToArray());
        }
        else ChannelRules.Elementwise(flow);
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (!node.Attributes.ContainsKey("axis")) throw OpArgs.Error(node, "the attribute 'axis' is required");
        long axis = node.GetInt("axis", 0);
        return Single(inputs =>
        {
            Tensor[] parts = inputs.Select(t => t!).ToArray();
            long a = OpArgs.Axis(node, axis, parts[0].dim());
            return parts.Length == 1 ? parts[0] : cat(parts, a);
        });
    }
}
