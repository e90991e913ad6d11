using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

/// <summary>Structural equality of graphs: nodes, attributes, values, initializer bytes and metadata.</summary>
static class GraphAssert
{
    public static void Identical(PruneSharp.Graph.Graph expected, PruneSharp.Graph.Graph actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Opset, actual.Opset);
        Assert.Equal(expected.Inputs, actual.Inputs, ValueInfoEqual);
        Assert.Equal(expected.Outputs, actual.Outputs, ValueInfoEqual);
        Assert.Equal(expected.ValueInfos.Keys.Order(), actual.ValueInfos.Keys.Order());
        foreach (var (name, info) in expected.ValueInfos) Assert.True(ValueInfoEqual(info, actual.ValueInfos[name]), name);
        Assert.Equal(expected.Metadata.OrderBy(kv => kv.Key), actual.Metadata.OrderBy(kv => kv.Key));
        Assert.Equal(expected.Initializers.Keys, actual.Initializers.Keys);
        foreach (var (name, value) in expected.Initializers) TensorIdentical(value, actual.Initializers[name], name);
        Assert.Equal(expected.Nodes.Count, actual.Nodes.Count);
        for (int i = 0; i < expected.Nodes.Count; i++)
        {
            Node e = expected.Nodes[i], a = actual.Nodes[i];
            Assert.Equal((e.Name, e.OpType, e.Domain), (a.Name, a.OpType, a.Domain));
            Assert.Equal(e.Inputs, a.Inputs);
            Assert.Equal(e.Outputs, a.Outputs);
            Assert.Equal(e.Attributes.Keys.Order(), a.Attributes.Keys.Order());
            foreach (var (name, value) in e.Attributes)
            {
                var other = a.Attributes[name];
                Assert.Equal(value.Kind, other.Kind);
                if (value.Kind == AttributeKind.Tensor) TensorIdentical(value.Tensor!, other.Tensor!, $"{e.Name}.{name}");
                else Assert.Equal(value.ToString(), other.ToString());
            }
        }
    }

    public static void TensorIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.dtype == actual.dtype, $"{what}: dtype {expected.dtype} vs {actual.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}]");
        Assert.True(expected.contiguous().bytes.SequenceEqual(actual.contiguous().bytes), $"{what}: bytes differ");
    }

    static bool ValueInfoEqual(ValueInfo a, ValueInfo b) =>
        a.Name == b.Name && a.ElementType == b.ElementType
        && (a.Shape == null ? b.Shape == null : b.Shape != null && a.Shape.SequenceEqual(b.Shape));
}
