using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using PruneSharp.Graph;
using TorchSharp;

namespace PruneSharp.Onnx;

/// <summary>
/// Runs an ONNX model file with ONNX Runtime (CPU), the reference executor that PruneSharp's own results are checked
/// against and that pruned models are deployed with. Inputs and outputs are TorchSharp tensors.
/// </summary>
public sealed class OnnxRuntimeRunner : IDisposable
{
    readonly InferenceSession _session;
    readonly string _model;

    /// <summary>Loads <paramref name="modelPath"/> into an ONNX Runtime session.</summary>
    /// <param name="modelPath">The model file; external data is read from its folder.</param>
    /// <param name="threads">Threads for one operator (intra-op); 0 lets ONNX Runtime choose.</param>
    /// <param name="spinning">Let idle intra-op threads busy-wait for the next operator (ONNX Runtime's default). Turn it off
    /// when several sessions take turns on the same cores: a session's spinning threads would steal the next one's time.</param>
    /// <exception cref="GraphException">ONNX Runtime refuses the model; the message carries its reason.</exception>
    public OnnxRuntimeRunner(string modelPath, int threads = 1, bool spinning = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"model file '{modelPath}' does not exist", modelPath);
        _model = modelPath;
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (!spinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new GraphException($"ONNX Runtime cannot load '{modelPath}': {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>The model's input names, in order.</summary>
    public IReadOnlyList<string> InputNames => _session.InputNames;

    /// <summary>The model's output names, in order.</summary>
    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (by input name; float32, float64, int64, int32 or bool tensors)
    /// and returns every output by name, as CPU tensors.
    /// </summary>
    /// <exception cref="GraphException">An input is missing or of an unsupported type, or ONNX Runtime fails.</exception>
    public IReadOnlyDictionary<string, torch.Tensor> Run(IReadOnlyDictionary<string, torch.Tensor> inputs)
    {
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (string name in InputNames)
            {
                if (!inputs.TryGetValue(name, out var tensor))
                {
                    // Inputs that are also initializers (older exporters list them) keep their stored value.
                    if (_session.OverridableInitializerMetadata.ContainsKey(name)) continue;
                    throw new GraphException($"{_model}: ONNX Runtime needs input '{name}', which was not given");
                }
                names.Add(name);
                values.Add(ToOrtValue(tensor, name));
            }
            using var options = new RunOptions();
            using var results = _session.Run(options, names, values, OutputNames);
            var outputs = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
            for (int i = 0; i < OutputNames.Count; i++) outputs[OutputNames[i]] = ToTensor(results[i], OutputNames[i]);
            return outputs;
        }
        catch (OnnxRuntimeException e)
        {
            throw new GraphException($"{_model}: ONNX Runtime failed: {FirstLine(e.Message)}", e);
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    static string FirstLine(string message) => message.Split('\n')[0].Trim();

    OrtValue ToOrtValue(torch.Tensor tensor, string name)
    {
        using var cpu = TensorCodec.ContiguousCpu(tensor);
        long[] shape = cpu.shape;
        return cpu.dtype switch
        {
            torch.ScalarType.Float32 => OrtValue.CreateTensorValueFromMemory(cpu.data<float>().ToArray(), shape),
            torch.ScalarType.Float64 => OrtValue.CreateTensorValueFromMemory(cpu.data<double>().ToArray(), shape),
            torch.ScalarType.Int64 => OrtValue.CreateTensorValueFromMemory(cpu.data<long>().ToArray(), shape),
            torch.ScalarType.Int32 => OrtValue.CreateTensorValueFromMemory(cpu.data<int>().ToArray(), shape),
            torch.ScalarType.Bool => OrtValue.CreateTensorValueFromMemory(cpu.data<bool>().ToArray(), shape),
            _ => throw new GraphException($"{_model}: input '{name}' is {cpu.dtype}; the ONNX Runtime runner takes float32, float64, int64, int32 or bool"),
        };
    }

    torch.Tensor ToTensor(OrtValue value, string name)
    {
        if (!value.IsTensor) throw new GraphException($"{_model}: output '{name}' is not a tensor (sequences and maps are not supported)");
        var info = value.GetTensorTypeAndShape();
        var type = info.ElementDataType switch
        {
            TensorElementType.Float => DataType.Float,
            TensorElementType.Double => DataType.Double,
            TensorElementType.Float16 => DataType.Float16,
            TensorElementType.BFloat16 => DataType.BFloat16,
            TensorElementType.Int64 => DataType.Int64,
            TensorElementType.Int32 => DataType.Int32,
            TensorElementType.Int16 => DataType.Int16,
            TensorElementType.Int8 => DataType.Int8,
            TensorElementType.UInt8 => DataType.UInt8,
            TensorElementType.Bool => DataType.Bool,
            var other => throw new GraphException($"{_model}: output '{name}' has element type {other}, which has no tensor equivalent here"),
        };
        var tensor = torch.empty(info.Shape, type.ToScalarType());
        value.GetTensorMutableRawData().CopyTo(tensor.bytes);
        return tensor;
    }
}
