using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Einsum</c> (opset 12): Einstein summation over the equation's subscripts, with explicit ("ij,jk->ik")
/// or implicit output (the subscripts used once, in alphabetical order) and "..." for broadcast dimensions.
/// </summary>
public sealed class Einsum : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Einsum" };

    /// <inheritdoc />
    public override int MinOpset => 12;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (Enumerable.Range(0, flow.Node.Inputs.Count).Any(i => flow.Input(i) != null)) flow.Block("Einsum may contract or mix any axis");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        string equation = new(node.GetString("equation", "").Where(c => !char.IsWhiteSpace(c)).ToArray());
        if (equation.Length == 0)
            throw new GraphException($"node '{node.Name}' (Einsum): attribute equation is required");
        string operands = equation.Split("->")[0];
        int count = operands.Split(',').Length;
        if (equation.Split("->").Length > 2 || operands.Any(c => !(char.IsAsciiLetter(c) || c is ',' or '.')))
            throw new GraphException($"node '{node.Name}' (Einsum): equation '{equation}' is malformed");
        if (count != node.Inputs.Count)
            throw new GraphException($"node '{node.Name}' (Einsum): equation '{equation}' names {count} operand(s) but the node has {node.Inputs.Count} input(s)");
        return Single(inputs => einsum(equation, inputs.Select(t => t!).ToArray()));
    }
}
