using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

/// <summary>Shorthands over <see cref="OpRunner"/> for single nodes whose inputs are all fed at run time (null: omitted input).</summary>
static class OneNode
{
    public static Tensor[] RunAll(string opType, Dictionary<string, AttributeValue>? attributes, int opset, int outputs, params Tensor?[] inputs) =>
        OpRunner.Run(opType, inputs, attributes, opset, outputs);

    public static Tensor Run(string opType, params Tensor?[] inputs) => RunAll(opType, null, 17, 1, inputs)[0];

    public static Tensor Run(string opType, Dictionary<string, AttributeValue> attributes, params Tensor?[] inputs) =>
        RunAll(opType, attributes, 17, 1, inputs)[0];

    public static Tensor RunAt(int opset, string opType, Dictionary<string, AttributeValue>? attributes, params Tensor?[] inputs) =>
        RunAll(opType, attributes, opset, 1, inputs)[0];

    public static Dictionary<string, AttributeValue> Attrs(params (string Name, object Value)[] values) => OpRunner.Attrs(values);

    public static Tensor Longs(params long[] values) => tensor(values, ScalarType.Int64);

    public static void Same(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        if (!expected.Equals(actual)) Assert.Fail($"expected {expected.ToString(TorchSharp.TensorStringStyle.Julia)}\nactual {actual.ToString(TorchSharp.TensorStringStyle.Julia)}");
    }
}
