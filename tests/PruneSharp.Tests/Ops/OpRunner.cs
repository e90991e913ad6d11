using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

/// <summary>Builds a one-node graph around an op and runs it through <see cref="GraphModule"/>.</summary>
static class OpRunner
{
    /// <summary>
    /// Runs <paramref name="opType"/> on <paramref name="inputs"/> (null: an omitted optional input). Inputs whose
    /// index is in <paramref name="constants"/> become initializers, the others graph inputs.
    /// </summary>
    public static Tensor[] Run(string opType, Tensor?[] inputs, Dictionary<string, AttributeValue>? attributes = null,
        int opset = 21, int outputs = 1, int[]? constants = null, bool training = false)
    {
        var graph = new PruneSharp.Graph.Graph { Name = "op", Opset = opset };
        var names = new List<string>();
        var runtime = new List<Tensor>();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is not { } value) { names.Add(""); continue; }
            string name = $"in{i}";
            names.Add(name);
            if (constants?.Contains(i) == true) graph.Initializers[name] = value;
            else
            {
                graph.Inputs.Add(new ValueInfo(name, DataType.Undefined, null));
                runtime.Add(value);
            }
        }
        var outputNames = Enumerable.Range(0, outputs).Select(k => $"out{k}").ToArray();
        foreach (var o in outputNames) graph.Outputs.Add(new ValueInfo(o, DataType.Undefined, null));
        graph.Nodes.Add(new Node("node", opType, names, outputNames, attributes));
        using var module = new GraphModule(graph);
        if (training) module.train(); else module.eval();
        return module.Run(runtime);
    }

    /// <summary>Shorthand for an attribute dictionary.</summary>
    public static Dictionary<string, AttributeValue> Attrs(params (string Name, object Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value switch
        {
            long l => AttributeValue.FromInt(l),
            int i => AttributeValue.FromInt(i),
            float f => AttributeValue.FromFloat(f),
            double d => AttributeValue.FromFloat((float)d),
            string s => AttributeValue.FromString(s),
            long[] ls => AttributeValue.FromInts(ls),
            float[] fs => AttributeValue.FromFloats(fs),
            Tensor t => AttributeValue.FromTensor(t),
            _ => throw new ArgumentException($"unsupported attribute value {v.Value}"),
        });

    /// <summary>Asserts equal shapes and values within tolerance, with a readable message.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double rtol = 1e-5, double atol = 1e-6)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.to_type(ScalarType.Float64).allclose(actual.to_type(ScalarType.Float64), rtol, atol, equal_nan: true),
            $"max difference {(expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>()}");
    }
}
