using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

/// <summary>Runs a single node through a <see cref="GraphModule"/>, its inputs fed at run time (null: omitted input).</summary>
static class OneNode
{
    public static Tensor[] RunAll(string opType, Dictionary<string, AttributeValue>? attributes, int opset, int outputs, params Tensor?[] inputs)
    {
        var g = new PruneSharp.Graph.Graph { Opset = opset };
        var names = new List<string>();
        var fed = new List<Tensor>();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is null) { names.Add(""); continue; }
            names.Add($"in{i}");
            g.Inputs.Add(new ValueInfo($"in{i}", DataType.Undefined, null));
            fed.Add(inputs[i]!);
        }
        var outs = Enumerable.Range(0, outputs).Select(k => $"out{k}").ToList();
        g.Outputs.AddRange(outs.Select(o => new ValueInfo(o, DataType.Undefined, null)));
        g.Nodes.Add(new Node("n", opType, names, outs, attributes));
        using var module = new GraphModule(g);
        module.eval();
        return module.Run(fed);
    }

    public static Tensor Run(string opType, params Tensor?[] inputs) => RunAll(opType, null, 17, 1, inputs)[0];

    public static Tensor Run(string opType, Dictionary<string, AttributeValue> attributes, params Tensor?[] inputs) =>
        RunAll(opType, attributes, 17, 1, inputs)[0];

    public static Tensor RunAt(int opset, string opType, Dictionary<string, AttributeValue>? attributes, params Tensor?[] inputs) =>
        RunAll(opType, attributes, opset, 1, inputs)[0];

    public static Dictionary<string, AttributeValue> Attrs(params (string Name, object Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value switch
        {
            long l => AttributeValue.FromInt(l),
            int i => AttributeValue.FromInt(i),
            float f => AttributeValue.FromFloat(f),
            string s => AttributeValue.FromString(s),
            long[] ls => AttributeValue.FromInts(ls),
            Tensor t => AttributeValue.FromTensor(t),
            _ => throw new ArgumentException($"unsupported attribute value {v.Value}"),
        });

    public static Tensor Longs(params long[] values) => tensor(values, ScalarType.Int64);

    public static void Same(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        if (!expected.Equals(actual)) Assert.Fail($"expected {expected.ToString(TorchSharp.TensorStringStyle.Julia)}\nactual {actual.ToString(TorchSharp.TensorStringStyle.Julia)}");
    }
}
