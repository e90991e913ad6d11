using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

/// <summary>
/// Runs a single-node graph both in <see cref="GraphModule"/> and in ONNX Runtime (via an ONNX file written by
/// <see cref="OnnxFile.Write"/>) and checks that every output has the same type, shape and values.
/// </summary>
static class OnnxRuntimeOracle
{
    public static void Agrees(string opType, Dictionary<string, AttributeValue>? attributes, int opset, int outputs, params Tensor?[] inputs)
    {
        var ours = OneNode.RunAll(opType, attributes, opset, outputs, inputs);
        var g = new PruneSharp.Graph.Graph { Name = opType, Opset = opset };
        var names = new List<string>();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is not { } input) { names.Add(""); continue; }
            names.Add($"in{i}");
            g.Inputs.Add(new ValueInfo($"in{i}", input.dtype.ToDataType(), input.shape.Select(d => (Dim)d).ToArray()));
        }
        for (int k = 0; k < outputs; k++) g.Outputs.Add(new ValueInfo($"out{k}", ours[k].dtype.ToDataType(), null));
        g.Nodes.Add(new Node("n", opType, names, g.Outputs.Select(o => o.Name), attributes));

        string path = Path.Combine(Path.GetTempPath(), $"prunesharp-ort-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxFile.Write(g, path);
            using var session = new InferenceSession(path);
            var fed = inputs.Where(t => t is not null).Select(t => ToOrt(t!)).ToList();
            try
            {
                using var results = session.Run(new RunOptions(), g.Inputs.Select(i => i.Name).ToList(), fed, g.Outputs.Select(o => o.Name).ToList());
                for (int k = 0; k < outputs; k++)
                {
                    var reference = FromOrt(results[k]);
                    Assert.True(reference.dtype == ours[k].dtype, $"{opType} output {k}: type {ours[k].dtype}, ONNX Runtime {reference.dtype}");
                    Assert.True(reference.shape.SequenceEqual(ours[k].shape),
                        $"{opType} output {k}: shape [{string.Join(",", ours[k].shape)}], ONNX Runtime [{string.Join(",", reference.shape)}]");
                    bool same = is_floating_point(reference)
                        ? reference.allclose(ours[k], 1e-4, 1e-6, equal_nan: true)
                        : reference.Equals(ours[k]);
                    if (!same) Assert.Fail($"{opType} output {k}: ours {ours[k].ToString(TorchSharp.TensorStringStyle.Julia)}\nONNX Runtime {reference.ToString(TorchSharp.TensorStringStyle.Julia)}");
                }
            }
            finally
            {
                foreach (var value in fed) value.Dispose();
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    static OrtValue ToOrt(Tensor t)
    {
        long[] shape = t.shape;
        return t.dtype switch
        {
            ScalarType.Float32 => OrtValue.CreateTensorValueFromMemory(t.contiguous().data<float>().ToArray(), shape),
            ScalarType.Float64 => OrtValue.CreateTensorValueFromMemory(t.contiguous().data<double>().ToArray(), shape),
            ScalarType.Int64 => OrtValue.CreateTensorValueFromMemory(t.contiguous().data<long>().ToArray(), shape),
            ScalarType.Int32 => OrtValue.CreateTensorValueFromMemory(t.contiguous().data<int>().ToArray(), shape),
            ScalarType.Int8 => OrtValue.CreateTensorValueFromMemory(t.contiguous().data<sbyte>().ToArray(), shape),
            ScalarType.Byte => OrtValue.CreateTensorValueFromMemory(t.contiguous().data<byte>().ToArray(), shape),
            ScalarType.Bool => OrtValue.CreateTensorValueFromMemory(t.contiguous().data<bool>().ToArray(), shape),
            _ => throw new ArgumentException($"no ONNX Runtime conversion for {t.dtype} in this test"),
        };
    }

    static Tensor FromOrt(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        return info.ElementDataType switch
        {
            TensorElementType.Float => tensor(value.GetTensorDataAsSpan<float>().ToArray()).reshape(shape),
            TensorElementType.Double => tensor(value.GetTensorDataAsSpan<double>().ToArray()).reshape(shape),
            TensorElementType.Int64 => tensor(value.GetTensorDataAsSpan<long>().ToArray()).reshape(shape),
            TensorElementType.Int32 => tensor(value.GetTensorDataAsSpan<int>().ToArray()).reshape(shape),
            TensorElementType.Int8 => tensor(value.GetTensorDataAsSpan<sbyte>().ToArray()).reshape(shape),
            TensorElementType.UInt8 => tensor(value.GetTensorDataAsSpan<byte>().ToArray()).reshape(shape),
            TensorElementType.Bool => tensor(value.GetTensorDataAsSpan<bool>().ToArray()).reshape(shape),
            var other => throw new ArgumentException($"no conversion from ONNX Runtime {other} in this test"),
        };
    }
}
