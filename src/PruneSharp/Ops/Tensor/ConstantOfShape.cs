using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>ConstantOfShape</c>: a tensor of the given shape filled with the one-element <c>value</c> attribute (default float 0).</summary>
public sealed class ConstantOfShape : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "ConstantOfShape" };

    /// <inheritdoc />
    public override int MinOpset => 9;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        Tensor value = node.GetTensor("value") ?? zeros(1, ScalarType.Float32);
        if (value.numel() != 1) throw OpArgs.Error(node, $"the value attribute must hold one element, it holds {value.numel()}");
        Tensor scalar = value.reshape(Array.Empty<long>());
        var shapeOf = OpArgs.IntsInput(node, context, 0);
        return Single(inputs =>
        {
            long[] shape = shapeOf(inputs) ?? throw OpArgs.Error(node, "the shape input is missing");
            if (shape.Any(d => d < 0)) throw OpArgs.Error(node, $"shape [{string.Join(",", shape)}] has a negative dimension");
            Engine.MemoryGuard.CheckComputed(node, shape, scalar.dtype);
            return scalar.expand(shape).contiguous();
        });
    }
}
