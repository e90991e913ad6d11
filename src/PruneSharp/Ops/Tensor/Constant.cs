using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Constant</c>: a tensor given by one of the attributes value, value_float(s), value_int(s).</summary>
public sealed class Constant : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Constant" };

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        Tensor value = node.GetTensor("value")
            ?? (node.Attributes.ContainsKey("value_float") ? tensor(node.GetFloat("value_float", 0))
            : node.Attributes.ContainsKey("value_int") ? tensor(node.GetInt("value_int", 0))
            : node.GetFloats("value_floats") is { } floats ? tensor(floats.ToArray())
            : node.GetInts("value_ints") is { } ints ? tensor(ints.ToArray())
            : throw new GraphException($"node '{node.Name}' (Constant): none of the attributes value, value_float, value_floats, value_int, value_ints is set"));
        return Single(_ => value);
    }
}
