using System.Runtime.InteropServices;
using Google.Protobuf;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Proto;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Compression;

/// <summary>
/// The Deep Compression pipeline (Han, Mao and Dally, 2016) after pruning: weight sharing by k-means per layer
/// (<see cref="Share"/>), optional centroid fine-tuning (<see cref="FineTune"/>), then sparse storage with relative
/// indices and Huffman coding in a <c>.psz</c> file (<see cref="Pack"/>); <see cref="Unpack"/> gives back the
/// shared-weight model as an ONNX file, bit for bit. The shared layers are the float32 weights of Conv and
/// ConvTranspose (input 1) and of Gemm and MatMul (input 1, two dimensions); every other initializer (biases,
/// normalisation) stays as it is, in float32, inside the stored model.
/// </summary>
public static class DeepCompression
{
    /// <summary>The weights that get shared, with their kind, in node order.</summary>
    public static IReadOnlyList<(string Name, LayerKind Kind)> FindLayers(Graph.Graph graph)
    {
        var found = new List<(string, LayerKind)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            LayerKind? kind = node.OpType switch
            {
                "Conv" or "ConvTranspose" => LayerKind.Convolution,
                "Gemm" or "MatMul" => LayerKind.FullyConnected,
                _ => null,
            };
            if (kind is null || node.InputOrNull(1) is not { } name || !graph.Initializers.TryGetValue(name, out var weight)) continue;
            if (weight.dtype != ScalarType.Float32 || (kind == LayerKind.FullyConnected && weight.dim() != 2)) continue;
            if (seen.Add(name)) found.Add((name, kind.Value));
        }
        return found;
    }

    /// <summary>
    /// The whole pipeline on an (already pruned) model: <see cref="Share"/>, <see cref="FineTune"/> if
    /// <paramref name="training"/> is given, <see cref="Pack"/>, and an atomic write of the <c>.psz</c> file to
    /// <paramref name="outputPath"/>; returns the models and the size report.
    /// </summary>
    /// <exception cref="ArgumentException">The options are out of range, or the model has no layer to share.</exception>
    /// <exception cref="OperationCanceledException">Fine-tuning was cancelled; nothing was written.</exception>
    public static CompressionResult Compress(Graph.Graph graph, string outputPath, CompressionOptions options, CentroidTraining? training = null,
        CancellationToken cancellation = default)
    {
        var shared = Share(graph, options);
        var final = shared;
        TrainingResult? result = null;
        if (training is not null)
        {
            (final, result) = FineTune(shared, training.Data, training.Options, training.Progress, cancellation);
            if (result.Cancelled) throw new OperationCanceledException($"centroid fine-tuning was interrupted; {outputPath} was not written", cancellation);
        }
        PszWriter.Write(Pack(final), outputPath);
        return new CompressionResult(shared, final, result, CompressionReport.Measure(final, new FileInfo(outputPath).Length));
    }

    /// <summary>
    /// Shares the weights of every layer that <see cref="FindLayers"/> finds: k-means over its non-zero weights with
    /// the bit width of its kind; zeros stay zero. The input graph is not changed.
    /// </summary>
    /// <exception cref="ArgumentException">The options are out of range, a weight is not finite, or the model has no layer to share.</exception>
    public static SharedModel Share(Graph.Graph graph, CompressionOptions options)
    {
        options.Validate();
        var found = FindLayers(graph);
        if (found.Count == 0) throw new ArgumentException("the model has no Conv, ConvTranspose, Gemm or MatMul weight (float32 initializer) to share");
        var layers = new List<SharedLayer>();
        foreach (var (name, kind) in found)
        {
            using var weight = graph.Initializers[name].detach().cpu().contiguous();
            var clusters = KMeansSharing.Cluster(weight.data<float>().ToArray(), options.Bits(kind), options.MaxIterations);
            layers.Add(new SharedLayer(name, weight.shape, kind, options.Bits(kind), options.IndexBits(kind), clusters));
        }
        return new SharedModel(WithSharedWeights(graph, layers), layers);
    }

    /// <summary>
    /// Fine-tunes the centroids of <paramref name="model"/> on <paramref name="data"/> with a <see cref="Trainer"/> and
    /// <see cref="CentroidFineTuning"/>; assignments and zeros are kept, other trainable parameters train too.
    /// </summary>
    /// <exception cref="ArgumentException">A shared layer is not a trainable parameter (frozen by the options), or the data does not fit the model.</exception>
    public static (SharedModel Model, TrainingResult Result) FineTune(SharedModel model, IDataset data, TrainerOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        using var module = new GraphModule(model.Graph);
        using var tuning = new CentroidFineTuning(module, model.Layers);
        using var trainer = new Trainer(module, options) { Progress = progress };
        var frozen = model.Layers.Select(l => l.Name).Except(trainer.Selection.Trained).ToList();
        if (frozen.Count > 0) throw new ArgumentException($"shared layers are frozen by the training options: {string.Join(", ", frozen)}");
        trainer.Callbacks.Add(tuning);
        var result = trainer.Fit(data, cancellation);
        var layers = tuning.Layers();
        return (new SharedModel(WithSharedWeights(module.ToGraph(), layers), layers), result);
    }

    /// <summary>
    /// The <c>.psz</c> content of <paramref name="model"/>: the ONNX model with the shared layers' data removed (dims
    /// and type kept), and the shared layers.
    /// </summary>
    /// <exception cref="GraphException">The graph is not valid for writing as ONNX.</exception>
    public static PszFile Pack(SharedModel model)
    {
        var proto = OnnxWriter.ToProto(model.Graph, "shared-weight model");
        var shared = model.Layers.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var initializer in proto.Graph.Initializer)
            if (shared.Contains(initializer.Name)) initializer.RawData = ByteString.Empty;
        return new PszFile(proto.ToByteArray(), model.Layers);
    }

    /// <summary>
    /// The ONNX model file bytes of <paramref name="file"/>: its model with each shared layer's weights (centroid per
    /// weight, zeros where pruned) written back as float32 <c>raw_data</c>. <paramref name="fileName"/> names the
    /// <c>.psz</c> file in errors.
    /// </summary>
    /// <exception cref="PszFormatException">The model section is not an ONNX model, or a layer does not match its initializer (missing, other type or dims, data present).</exception>
    public static byte[] Unpack(PszFile file, string fileName)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(file.Model);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new PszFormatException(fileName, PszFormat.ModelName, $"not an ONNX model: {e.Message}");
        }
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var initializer in proto.Graph?.Initializer ?? Enumerable.Empty<TensorProto>()) initializers.TryAdd(initializer.Name, initializer);
        foreach (var layer in file.Layers)
        {
            if (!initializers.TryGetValue(layer.Name, out var target))
                throw new PszFormatException(fileName, layer.Name, "the model has no initializer of this name");
            if (target.DataType != (int)DataType.Float || !target.Dims.SequenceEqual(layer.Shape))
                throw new PszFormatException(fileName, layer.Name, $"the model's initializer is [{string.Join(",", target.Dims)}] of type {target.DataType}, the layer float32 [{string.Join(",", layer.Shape)}]");
            if (!target.RawData.IsEmpty || target.FloatData.Count > 0)
                throw new PszFormatException(fileName, layer.Name, "the model's initializer already holds data");
            target.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(layer.Clusters.Expand().AsSpan()));
        }
        return proto.ToByteArray();
    }

    /// <summary>Reads <paramref name="pszPath"/> and writes the shared-weight ONNX model to <paramref name="onnxPath"/> atomically.</summary>
    /// <exception cref="PszFormatException">The file is damaged.</exception>
    public static void Decompress(string pszPath, string onnxPath)
    {
        var bytes = Unpack(PszReader.Read(pszPath), pszPath);
        Files.AtomicFile.Write(onnxPath, stream => stream.Write(bytes));
    }

    /// <summary>A copy of <paramref name="graph"/> (same nodes) whose shared layers hold their shared values.</summary>
    static Graph.Graph WithSharedWeights(Graph.Graph graph, IReadOnlyList<SharedLayer> layers)
    {
        var copy = graph.WithoutInitializers();
        foreach (var (k, v) in graph.Initializers) copy.Initializers[k] = v;
        foreach (var layer in layers)
            copy.Initializers[layer.Name] = tensor(layer.Clusters.Expand(), dtype: ScalarType.Float32).reshape(layer.Shape).DetachFromDisposeScope();
        return copy;
    }
}
