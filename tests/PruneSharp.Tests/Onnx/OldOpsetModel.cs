using Google.Protobuf;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Proto;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

/// <summary>Builds ONNX files at old opsets node by node, as older exporters wrote them (weights not among the graph inputs).</summary>
public sealed class OldOpsetModel(int opset)
{
    readonly GraphProto _graph = new() { Name = "old" };

    public OldOpsetModel Input(string name, params long[] shape) => Input(name, DataType.Float, shape);

    public OldOpsetModel Input(string name, DataType type, params long[] shape)
    {
        _graph.Input.Add(Info(name, type, shape));
        return this;
    }

    public OldOpsetModel Output(string name, DataType type = DataType.Float)
    {
        _graph.Output.Add(Info(name, type, null));
        return this;
    }

    public OldOpsetModel Initializer(string name, Tensor value)
    {
        _graph.Initializer.Add(TensorCodec.Encode(value, name));
        return this;
    }

    /// <summary>Adds a node; attribute values are long, float, string, long[] or float[].</summary>
    public OldOpsetModel Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes)
        {
            var a = new AttributeProto { Name = name };
            switch (value)
            {
                case long i: a.Type = 2; a.I = i; break;
                case float f: a.Type = 1; a.F = f; break;
                case string s: a.Type = 3; a.S = ByteString.CopyFromUtf8(s); break;
                case long[] ints: a.Type = 7; a.Ints.AddRange(ints); break;
                case float[] floats: a.Type = 6; a.Floats.AddRange(floats); break;
                default: throw new ArgumentException($"attribute {name}: {value.GetType()}");
            }
            node.Attribute.Add(a);
        }
        _graph.Node.Add(node);
        return this;
    }

    /// <summary>Writes the model to <paramref name="path"/> and returns the path.</summary>
    public string Write(string path)
    {
        var model = new ModelProto { IrVersion = opset < 10 ? 4 : 5, ProducerName = "old-opset-test", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    static ValueInfoProto Info(string name, DataType type, long[]? shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (shape != null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (long d in shape) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
