using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary><c>Reshape</c>: 0 copies the input's dimension (unless <c>allowzero</c>), -1 is inferred.</summary>
public sealed class Reshape : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Reshape" };

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
