using System.Globalization;
using System.Text;
using Google.Protobuf;
using PruneSharp.Files;
using PruneSharp.Graph;
using PruneSharp.Onnx.Proto;

namespace PruneSharp.Onnx;

/// <summary>Turns a <see cref="Graph.Graph"/> into an ONNX model file, with large initializers in a side file.</summary>
static class OnnxWriter
{
    /// <summary>External tensors start at multiples of this, so that readers may map them in place.</summary>
    const int ExternalAlignment = 64;

    public static void Write(Graph.Graph graph, string path, long externalDataThreshold)
    {
        string fullPath = Path.GetFullPath(path);
        GraphValidation.Check(graph, path);
        var model = ToModel(graph);
        long initializerBytes = graph.Initializers.Values.Sum(TensorCodec.ByteCount);
        string dataFile = Path.GetFileName(fullPath) + ".data";
        if (initializerBytes > externalDataThreshold)
        {
            AtomicFile.Write(Path.Combine(Path.GetDirectoryName(fullPath)!, dataFile), stream => WriteExternal(graph, model, dataFile, stream));
        }
        else
        {
            foreach (var (name, value) in graph.Initializers) model.Graph.Initializer.Add(TensorCodec.Encode(value, name));
        }
        AtomicFile.Write(fullPath, stream => model.WriteTo(stream));
    }

    /// <summary>
    /// The model with every initializer inline in <c>raw_data</c>, in memory (for containers that carry a model, such
    /// as <c>.psz</c>); <paramref name="source"/> names the model in validation errors.
    /// </summary>
    internal static ModelProto ToProto(Graph.Graph graph, string source)
    {
        GraphValidation.Check(graph, source);
        var model = ToModel(graph);
        foreach (var (name, value) in graph.Initializers) model.Graph.Initializer.Add(TensorCodec.Encode(value, name));
        return model;
    }

    /// <summary>The model without initializers.</summary>
    static ModelProto ToModel(Graph.Graph graph)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersionFor(graph.Opset),
            ProducerName = graph.Metadata.GetValueOrDefault(OnnxFile.ProducerNameKey, "PruneSharp"),
            ProducerVersion = graph.Metadata.GetValueOrDefault(OnnxFile.ProducerVersionKey,
                typeof(OnnxWriter).Assembly.GetName().Version?.ToString(3) ?? ""),
            Graph = new GraphProto { Name = graph.Name },
        };
        if (graph.Metadata.TryGetValue(OnnxFile.DomainKey, out string? domain)) model.Domain = domain;
        if (graph.Metadata.TryGetValue(OnnxFile.DocStringKey, out string? doc)) model.DocString = doc;
        if (graph.Metadata.TryGetValue(OnnxFile.ModelVersionKey, out string? version)
            && long.TryParse(version, NumberStyles.Integer, CultureInfo.InvariantCulture, out long modelVersion))
            model.ModelVersion = modelVersion;
        foreach (var (key, value) in graph.Metadata)
            if (!OnnxFile.ModelFieldKeys.Contains(key))
                model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = graph.Opset });
        foreach (string other in graph.Nodes.Select(n => n.Domain).Where(d => d is not ("" or "ai.onnx")).Distinct().Order(StringComparer.Ordinal))
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = other, Version = 1 });

        var g = model.Graph;
        // LayerNormalization below opset 17 (fused on load by LayerNormFusion) goes back to the exporter's decomposition.
        foreach (var node in graph.Nodes)
            foreach (var written in graph.Opset < 17 ? Graph.Passes.LayerNormFusion.Decompose(node) : new[] { node })
                g.Node.Add(ToProto(written));
        foreach (var input in graph.Inputs) g.Input.Add(ToProto(input));
        foreach (var output in graph.Outputs) g.Output.Add(ToProto(output));
        foreach (var info in graph.ValueInfos.Values)
            if (info.ElementType != DataType.Undefined || info.Shape != null) g.ValueInfo.Add(ToProto(info));
        return model;
    }

    /// <summary>The ONNX IR version that goes with a default-domain opset (ONNX's versioning table).</summary>
    static long IrVersionFor(int opset) => opset switch
    {
        <= 10 => 5,
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    static void WriteExternal(Graph.Graph graph, ModelProto model, string dataFile, Stream stream)
    {
        long offset = 0;
        foreach (var (name, value) in graph.Initializers)
        {
            var proto = TensorCodec.Header(value, name);
            using var cpu = TensorCodec.ContiguousCpu(value);
            ReadOnlySpan<byte> bytes = cpu.bytes;
            long padding = (ExternalAlignment - offset % ExternalAlignment) % ExternalAlignment;
            stream.Write(new byte[padding]);
            offset += padding;
            stream.Write(bytes);
            proto.DataLocation = TensorCodec.ExternalLocation;
            proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataFile });
            proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
            proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(CultureInfo.InvariantCulture) });
            offset += bytes.Length;
            model.Graph.Initializer.Add(proto);
        }
    }

    static NodeProto ToProto(Node node)
    {
        var proto = new NodeProto { Name = node.Name, OpType = node.OpType };
        if (node.Domain.Length > 0) proto.Domain = node.Domain;
        proto.Input.AddRange(node.Inputs);
        proto.Output.AddRange(node.Outputs);
        foreach (var (name, value) in node.Attributes) proto.Attribute.Add(ToProto(name, value, node));
        return proto;
    }

    static AttributeProto ToProto(string name, AttributeValue value, Node node)
    {
        var proto = new AttributeProto { Name = name, Type = (int)value.Kind };
        switch (value.Kind)
        {
            case AttributeKind.Float: proto.F = value.Float; break;
            case AttributeKind.Int: proto.I = value.Int; break;
            case AttributeKind.String: proto.S = ByteString.CopyFromUtf8(value.String!); break;
            case AttributeKind.Tensor: proto.T = TensorCodec.Encode(value.Tensor!, ""); break;
            case AttributeKind.Floats: proto.Floats.AddRange(value.Floats!); break;
            case AttributeKind.Ints: proto.Ints.AddRange(value.Ints!); break;
            case AttributeKind.Strings: proto.Strings.AddRange(value.Strings!.Select(s => ByteString.CopyFrom(s, Encoding.UTF8))); break;
            default:
                throw new GraphException($"node '{node.Name}' ({node.OpType}): attribute '{name}' is a subgraph, which PruneSharp does not keep and so cannot write");
        }
        return proto;
    }

    static ValueInfoProto ToProto(ValueInfo info)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)info.ElementType };
        if (info.Shape != null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var dim in info.Shape)
            {
                var d = new TensorShapeProto.Types.Dimension();
                if (dim.Size is long size) d.DimValue = size;
                else if (dim.Symbol is { Length: > 0 } symbol) d.DimParam = symbol;
                tensor.Shape.Dim.Add(d);
            }
        }
        return new ValueInfoProto { Name = info.Name, Type = new TypeProto { TensorType = tensor } };
    }
}
