using System.IO.MemoryMappedFiles;
using PruneSharp.Graph;
using PruneSharp.Ops;

namespace PruneSharp.Onnx;

/// <summary>
/// Reads and writes ONNX model files (<c>.onnx</c>): default-domain opsets 7 to 21 (older than 11 upgraded to 11 on
/// import, see <see cref="Opsets.OpsetConversion"/>), initializers inline or as
/// external data beside the model. Model-level fields (producer, domain, model version, doc string) and
/// <c>metadata_props</c> travel in <see cref="Graph.Graph.Metadata"/>; the keys of the former are the constants below.
/// </summary>
public static class OnnxFile
{
    /// <summary>Initializers larger than this in total (bytes) are written as external data, next to the model.</summary>
    public const long DefaultExternalDataThreshold = 2_000_000_000;

    /// <summary>Metadata key of <c>ModelProto.producer_name</c>.</summary>
    public const string ProducerNameKey = "onnx.producer_name";
    /// <summary>Metadata key of <c>ModelProto.producer_version</c>.</summary>
    public const string ProducerVersionKey = "onnx.producer_version";
    /// <summary>Metadata key of <c>ModelProto.domain</c>.</summary>
    public const string DomainKey = "onnx.domain";
    /// <summary>Metadata key of <c>ModelProto.model_version</c> (an integer, as text).</summary>
    public const string ModelVersionKey = "onnx.model_version";
    /// <summary>Metadata key of <c>ModelProto.doc_string</c>.</summary>
    public const string DocStringKey = "onnx.doc_string";

    internal static readonly IReadOnlySet<string> ModelFieldKeys =
        new HashSet<string> { ProducerNameKey, ProducerVersionKey, DomainKey, ModelVersionKey, DocStringKey };

    /// <summary>Reads the model at <paramref name="path"/>; external data is looked for in its folder.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="OnnxFormatException">The file is not a readable ONNX model; the message names the file and field.</exception>
    public static Graph.Graph Read(string path)
    {
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath)) throw new OnnxFormatException($"{path}: is a folder, not an ONNX model file");
        if (!File.Exists(fullPath)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        // A symbolic link's own FileInfo gives the link's length, not the model's.
        var info = new FileInfo(fullPath);
        long length = (info.LinkTarget != null ? info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo : null)?.Length ?? info.Length;
        using var source = new ModelSource(path, Path.GetDirectoryName(fullPath));
        if (length == 0) throw source.Error("the file is empty, not an ONNX model");
        if (length > Array.MaxLength)
            throw source.Error($"the file has {length} bytes; ONNX models over 2 GiB must keep their weights in external data");
        // Mapping the file lets the parser read it in place: the weights are copied once, into their tensors' buffers.
        using var map = MemoryMappedFile.CreateFromFile(fullPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        return ReadMapped(view, (int)length, source);
    }

    /// <summary>Reads a model from memory. External data, if any, is looked for in <paramref name="baseDirectory"/>.</summary>
    /// <param name="bytes">The model file's bytes.</param>
    /// <param name="baseDirectory">The folder holding the model's external data files, or null if it has none.</param>
    /// <param name="sourceName">How errors name the model.</param>
    /// <exception cref="OnnxFormatException">The bytes are not a readable ONNX model.</exception>
    public static Graph.Graph Read(ReadOnlySpan<byte> bytes, string? baseDirectory = null, string sourceName = "ONNX model")
    {
        using var source = new ModelSource(sourceName, baseDirectory);
        return OnnxReader.Read(bytes, source);
    }

    /// <summary>Reads a model from a stream. External data, if any, is looked for in <paramref name="baseDirectory"/>.</summary>
    /// <param name="stream">The model file's bytes, read to the end.</param>
    /// <param name="baseDirectory">The folder holding the model's external data files, or null if it has none.</param>
    /// <param name="sourceName">How errors name the model.</param>
    /// <exception cref="OnnxFormatException">The bytes are not a readable ONNX model, or more than 2 GiB.</exception>
    public static Graph.Graph Read(Stream stream, string? baseDirectory = null, string sourceName = "ONNX model")
    {
        if (stream.CanSeek && stream.Length - stream.Position > Array.MaxLength)
            throw new OnnxFormatException($"{sourceName}: the model has {stream.Length - stream.Position} bytes; ONNX models over 2 GiB must keep their weights in external data");
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        for (int n; (n = stream.Read(chunk)) > 0;)
        {
            if (buffer.Length + n > Array.MaxLength)
                throw new OnnxFormatException($"{sourceName}: the model is over 2 GiB; ONNX models this large must keep their weights in external data");
            buffer.Write(chunk, 0, n);
        }
        return Read(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), baseDirectory, sourceName);
    }

    /// <summary>
    /// Writes <paramref name="graph"/> to <paramref name="path"/> atomically (a temporary file in the same folder,
    /// then a rename). When its initializers hold more than <paramref name="externalDataThreshold"/> bytes, they go to
    /// <c>&lt;file name&gt;.data</c> in the same folder as ONNX external data, referenced by relative location.
    /// </summary>
    /// <exception cref="GraphException">The graph holds something ONNX files here cannot carry (a subgraph attribute).</exception>
    public static void Write(Graph.Graph graph, string path, long externalDataThreshold = DefaultExternalDataThreshold) =>
        OnnxWriter.Write(graph, path, externalDataThreshold);

    /// <summary>Reads the model at <paramref name="path"/> into a trainable <see cref="GraphModule"/>.</summary>
    /// <exception cref="OnnxFormatException">The file is not a readable ONNX model.</exception>
    /// <exception cref="UnsupportedOpException">The model uses an op the executor does not run.</exception>
    /// <remarks>Weights that the exporter stored once and copied with Identity nodes get initializers of their own (<see cref="Graph.Passes.InitializerCopies"/>).</remarks>
    public static GraphModule Load(string path, OpRegistry? registry = null)
    {
        var graph = Read(path);
        Graph.Passes.InitializerCopies.Materialize(graph);
        return new(graph, registry);
    }

    /// <summary>Writes <paramref name="module"/>'s graph with its current weights to <paramref name="path"/> (see <see cref="Write"/>).</summary>
    public static void Save(GraphModule module, string path, long externalDataThreshold = DefaultExternalDataThreshold) =>
        Write(module.ToGraph(), path, externalDataThreshold);

    static unsafe Graph.Graph ReadMapped(MemoryMappedViewAccessor view, int length, ModelSource source)
    {
        byte* start = null;
        var handle = view.SafeMemoryMappedViewHandle;
        handle.AcquirePointer(ref start);
        try
        {
            return OnnxReader.Read(new ReadOnlySpan<byte>(start + view.PointerOffset, length), source);
        }
        finally
        {
            handle.ReleasePointer();
        }
    }
}
