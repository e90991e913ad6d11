using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>HannWindow</c>, <c>HammingWindow</c> and <c>BlackmanWindow</c> (opset 17): a window of <c>size</c> samples,
/// periodic (N = size, the default) or symmetric (N = size − 1), of element type <c>output_datatype</c> (default float).
/// </summary>
public sealed class Windows : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "HannWindow", "HammingWindow", "BlackmanWindow" };

    /// <inheritdoc />
    public override int MinOpset => 17;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        bool periodic = node.GetInt("periodic", 1) != 0;
        long typeCode = node.GetInt("output_datatype", (long)DataType.Float);
        ScalarType dtype;
        try
        {
            dtype = ((DataType)typeCode).ToScalarType();
        }
        catch (NotSupportedException)
        {
            throw new GraphException($"node '{node.Name}' ({node.OpType}): output_datatype {typeCode} is not a supported element type");
        }
        Func<Tensor, Tensor> shape = node.OpType switch
        {
            "HannWindow" => phase => 0.5 - 0.5 * phase.cos(),
            "HammingWindow" => phase => 25.0 / 46 - 21.0 / 46 * phase.cos(),
            _ => phase => 0.42 - 0.5 * phase.cos() + 0.08 * (2 * phase).cos(),
        };
        return Single(inputs =>
        {
            long size = inputs[0]!.to_type(ScalarType.Int64).item<long>();
            if (size < 0)
                throw new GraphException($"node '{node.Name}' ({node.OpType}): size {size} is negative");
            double period = periodic ? size : size - 1;
            Tensor phase = arange(size, ScalarType.Float64, inputs[0]!.device) * (2 * Math.PI / (period == 0 ? 1 : period));
            return shape(phase).to_type(dtype);
        });
    }
}
