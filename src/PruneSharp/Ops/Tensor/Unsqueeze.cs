using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Unsqueeze</c>: inserts size-1 dimensions at the given axes of the output (negative axes count from the
/// output's end). Axes are an attribute before opset 13 and an input from 13.
/// </summary>
public sealed class Unsqueeze : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Unsqueeze" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var axesOf = OpArgs.AxesArgument(node, context, inputSince: 13, inputIndex: 1);
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            long[] given = axesOf(inputs) ?? throw OpArgs.Error(node, "axes are missing");
            long rank = x.dim() + given.Length;
            var inserted = OpArgs.Axes(node, given, rank).ToHashSet();
            var shape = new long[rank];
            for (int d = 0, from = 0; d < rank; d++)
                shape[d] = inserted.Contains(d) ? 1 : x.shape[from++];
            return x.reshape(shape);
        });
    }
}
