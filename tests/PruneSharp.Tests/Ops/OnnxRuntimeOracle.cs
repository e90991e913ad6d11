using PruneSharp.Graph;
using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

/// <summary>
/// Runs a single-node graph both in <see cref="GraphModule"/> and in ONNX Runtime (via an ONNX file written by
/// <see cref="OnnxFile.Write"/> and <see cref="OnnxRuntimeRunner"/>) and checks that every output has the same type, shape and values.
/// </summary>
static class OnnxRuntimeOracle
{
    public static void Agrees(string opType, Dictionary<string, AttributeValue>? attributes, int opset, int outputs, params Tensor?[] inputs)
    {
        var ours = OneNode.RunAll(opType, attributes, opset, outputs, inputs);
        var g = new PruneSharp.Graph.Graph { Name = opType, Opset = opset };
        var names = new List<string>();
        var fed = new Dictionary<string, Tensor>();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is not { } input) { names.Add(""); continue; }
            names.Add($"in{i}");
            fed[$"in{i}"] = input;
            g.Inputs.Add(new ValueInfo($"in{i}", input.dtype.ToDataType(), input.shape.Select(d => (Dim)d).ToArray()));
        }
        for (int k = 0; k < outputs; k++) g.Outputs.Add(new ValueInfo($"out{k}", ours[k].dtype.ToDataType(), null));
        g.Nodes.Add(new Node("n", opType, names, g.Outputs.Select(o => o.Name), attributes));

        string path = Path.Combine(Path.GetTempPath(), $"prunesharp-ort-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxFile.Write(g, path);
            using var runtime = new OnnxRuntimeRunner(path);
            var results = runtime.Run(fed);
            for (int k = 0; k < outputs; k++)
            {
                var reference = results[$"out{k}"];
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
            File.Delete(path);
        }
    }
}
