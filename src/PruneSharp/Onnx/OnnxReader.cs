using System.Text;
using Google.Protobuf;
using PruneSharp.Graph;
using PruneSharp.Onnx.Opsets;
using PruneSharp.Onnx.Proto;
using PruneSharp.Ops;
using TorchSharp;

namespace PruneSharp.Onnx;

/// <summary>Turns the bytes of an ONNX model into a <see cref="Graph.Graph"/>, checking every field it uses.</summary>
static class OnnxReader
{
    /// <summary>The oldest default-domain opset read; older than <see cref="OpsetConversion.Target"/> is upgraded on import.</summary>
    public const int MinOpset = OpsetConversion.Oldest;

    public static Graph.Graph Read(ReadOnlySpan<byte> bytes, ModelSource source)
    {
        CheckSignature(bytes, source);
        ModelReadProto model;
        List<System.Range?> rawData;
        try
        {
            model = Parser.ParseFrom(bytes);
            rawData = InitializerScan.RawDataRanges(bytes);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or FormatException or ArgumentException or OverflowException)
        {
            throw source.Error($"not a valid ONNX model (the protobuf data is truncated or garbled: {e.Message})", e);
        }
        int count = model.Graph?.Initializer.Count ?? 0;
        if (rawData.Count != count)
            throw source.Error($"not a valid ONNX model (the graph's {count} initializers could not be matched with their data)");
        return Convert(model, bytes, rawData, source);
    }

    /// <summary>Parses the reading view: initializers' raw_data is skipped here and copied from the input by <see cref="Convert"/>.</summary>
    static readonly MessageParser<ModelReadProto> Parser = ModelReadProto.Parser.WithDiscardUnknownFields(true);

    static void CheckSignature(ReadOnlySpan<byte> bytes, ModelSource source)
    {
        if (bytes.IsEmpty) throw source.Error("the file is empty, not an ONNX model");
        string? kind = bytes switch
        {
            [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "a PNG image",
            [(byte)'P', (byte)'K', 3, 4, ..] => "a zip archive (a PyTorch .pt/.pth checkpoint is one; export the model to ONNX first)",
            [0x1f, 0x8b, ..] => "a gzip file",
            [0xff, 0xd8, 0xff, ..] => "a JPEG image",
            [(byte)'%', (byte)'P', (byte)'D', (byte)'F', ..] => "a PDF document",
            [0x7f, (byte)'E', (byte)'L', (byte)'F', ..] => "an ELF executable",
            [0x80, 2 or 3 or 4 or 5, ..] => "a Python pickle",
            [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', ..] => "a NumPy array file",
            _ => null,
        };
        if (kind != null) throw source.Error($"this is {kind}, not an ONNX model");
    }

    static Graph.Graph Convert(ModelReadProto model, ReadOnlySpan<byte> bytes, List<System.Range?> rawData, ModelSource source)
    {
        if (!model.HasIrVersion || model.IrVersion is < 3 or > 100)
            throw source.Error(model.HasIrVersion
                ? $"ir_version {model.IrVersion} is not an ONNX IR version this reader knows (3 and later); not an ONNX model?"
                : "ir_version is missing; not an ONNX model");
        if (model.Graph == null) throw source.Error("the model has no graph");

        int opset = DefaultOpset(model, source);
        var graph = new Graph.Graph { Name = model.Graph.Name, Opset = opset };
        ReadMetadata(model, graph);

        var g = model.Graph;
        for (int i = 0; i < g.Initializer.Count; i++)
        {
            var initializer = g.Initializer[i];
            if (string.IsNullOrEmpty(initializer.Name)) throw source.Error("an initializer has no name");
            string what = $"initializer '{initializer.Name}'";
            if (graph.Initializers.ContainsKey(initializer.Name)) throw source.Error($"{what} appears twice");
            var raw = rawData[i];
            graph.Initializers[initializer.Name] = TensorCodec.Decode(initializer, raw is { } r ? bytes[r] : default, raw != null, what, source);
        }

        foreach (var input in g.Input)
            if (!graph.Initializers.ContainsKey(input.Name))
                graph.Inputs.Add(ReadValueInfo(input, "graph input", source));
        foreach (var output in g.Output) graph.Outputs.Add(ReadValueInfo(output, "graph output", source));
        foreach (var info in g.ValueInfo) graph.ValueInfos[info.Name] = ReadValueInfo(info, "value_info", source);

        var names = new HashSet<string>(g.Node.Select(n => n.Name).Where(n => !string.IsNullOrEmpty(n)), StringComparer.Ordinal);
        for (int i = 0; i < g.Node.Count; i++)
            graph.Nodes.Add(ReadNode(g.Node[i], i, names, source));

        try
        {
            OpsetConversion.Upgrade(graph, opset);
            graph.TopologicalOrder();
        }
        catch (UnsupportedOpException e)
        {
            throw new UnsupportedOpException($"{source.Source}: {e.Message}");
        }
        catch (GraphException e)
        {
            throw source.Error(e.Message, e);
        }
        return graph;
    }

    static int DefaultOpset(ModelReadProto model, ModelSource source)
    {
        var imports = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (imports.Count == 0)
            throw source.Error("opset_import has no entry for the default ONNX domain");
        long version = imports[0].Version;
        if (imports.Any(o => o.Version != version))
            throw source.Error($"opset_import lists the default domain twice, with versions {string.Join(" and ", imports.Select(o => o.Version))}");
        if (version is < MinOpset or > OpRegistry.MaxOpset)
            throw source.Error($"default-domain opset {version} is not supported (supported: {MinOpset}..{OpRegistry.MaxOpset}); re-export the model at a supported opset");
        return (int)version;
    }

    static void ReadMetadata(ModelReadProto model, Graph.Graph graph)
    {
        if (model.HasProducerName) graph.Metadata[OnnxFile.ProducerNameKey] = model.ProducerName;
        if (model.HasProducerVersion) graph.Metadata[OnnxFile.ProducerVersionKey] = model.ProducerVersion;
        if (model.HasDomain) graph.Metadata[OnnxFile.DomainKey] = model.Domain;
        if (model.HasModelVersion) graph.Metadata[OnnxFile.ModelVersionKey] = model.ModelVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (model.HasDocString) graph.Metadata[OnnxFile.DocStringKey] = model.DocString;
        foreach (var entry in model.MetadataProps) graph.Metadata[entry.Key] = entry.Value;
    }

    static ValueInfo ReadValueInfo(ValueInfoProto info, string role, ModelSource source)
    {
        if (string.IsNullOrEmpty(info.Name)) throw source.Error($"a {role} has no name");
        if (info.Type?.TensorType is not { } tensor) return new ValueInfo(info.Name, DataType.Undefined, null);
        var type = (DataType)tensor.ElemType;
        if (!Enum.IsDefined(type))
            throw source.Error($"{role} '{info.Name}' has element type code {tensor.ElemType}, which is not an ONNX type this reader knows");
        IReadOnlyList<Dim>? shape = tensor.Shape?.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue >= 0 => new Dim(d.DimValue),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue =>
                throw source.Error($"{role} '{info.Name}' has negative dimension {d.DimValue}"),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => Dim.Named(d.DimParam),
            _ => new Dim(null),
        }).ToList();
        return new ValueInfo(info.Name, type, shape);
    }

    static Node ReadNode(NodeProto proto, int index, HashSet<string> names, ModelSource source)
    {
        if (string.IsNullOrEmpty(proto.OpType)) throw source.Error($"node {index} ('{proto.Name}') has no op_type");
        string name = proto.Name;
        if (string.IsNullOrEmpty(name))
        {
            // Unnamed nodes get a stable name, so that errors and pruning reports can point at them.
            name = $"{proto.OpType}_{index}";
            for (int k = 1; names.Contains(name); k++) name = $"{proto.OpType}_{index}_{k}";
            names.Add(name);
        }
        var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        foreach (var attribute in proto.Attribute)
        {
            if (string.IsNullOrEmpty(attribute.Name)) throw source.Error($"node '{name}' ({proto.OpType}) has an attribute without a name");
            if (attributes.ContainsKey(attribute.Name))
                throw source.Error($"node '{name}' ({proto.OpType}) sets attribute '{attribute.Name}' twice");
            attributes[attribute.Name] = ReadAttribute(attribute, $"node '{name}' ({proto.OpType}) attribute '{attribute.Name}'", source);
        }
        return new Node(name, proto.OpType, proto.Input, proto.Output, attributes, proto.Domain);
    }

    static AttributeValue ReadAttribute(AttributeProto attribute, string what, ModelSource source)
    {
        if (attribute.HasRefAttrName && attribute.RefAttrName.Length > 0)
            throw source.Error($"{what} refers to function attribute '{attribute.RefAttrName}', which is only valid inside functions");
        return (AttributeKind)attribute.Type switch
        {
            AttributeKind.Float => AttributeValue.FromFloat(attribute.F),
            AttributeKind.Int => AttributeValue.FromInt(attribute.I),
            AttributeKind.String => AttributeValue.FromString(Utf8(attribute.S, what, source)),
            AttributeKind.Tensor => AttributeValue.FromTensor(attribute.T is { } t
                ? TensorCodec.Decode(t, what, source)
                : throw source.Error($"{what} is of type TENSOR but has no tensor")),
            AttributeKind.Graph => AttributeValue.Subgraph(),
            AttributeKind.Floats => AttributeValue.FromFloats(attribute.Floats.ToArray()),
            AttributeKind.Ints => AttributeValue.FromInts(attribute.Ints.ToArray()),
            AttributeKind.Strings => AttributeValue.FromStrings(attribute.Strings.Select(s => Utf8(s, what, source)).ToArray()),
            // GRAPHS: a list of subgraphs, kept like GRAPH only so that the op's error can name it.
            (AttributeKind)10 => AttributeValue.Subgraph(),
            _ => throw source.Error($"{what} has attribute type {attribute.Type}, which PruneSharp does not support " +
                                    "(supported: FLOAT, INT, STRING, TENSOR, GRAPH(S), FLOATS, INTS, STRINGS)"),
        };
    }

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static string Utf8(ByteString bytes, string what, ModelSource source)
    {
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException e)
        {
            throw source.Error($"{what} holds a string that is not valid UTF-8", e);
        }
    }
}
