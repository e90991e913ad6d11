using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

/// <summary>Small graphs built in code for the ONNX tests.</summary>
static class TestGraphs
{
    /// <summary>conv(3→4, 3x3, pad 1) → BN → ReLU → global average pool → flatten → Gemm(4→5), with a batch dimension.</summary>
    public static PruneSharp.Graph.Graph SmallCnn(int opset = 17)
    {
        var rng = new TorchSharp.torch.Generator(11); // a private generator: tests run in parallel
        var g = new PruneSharp.Graph.Graph { Name = "small_cnn", Opset = opset };
        g.Inputs.Add(new ValueInfo("input", DataType.Float, new[] { Dim.Named("batch"), (Dim)3, (Dim)8, (Dim)8 }));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, new[] { Dim.Named("batch"), (Dim)5 }));
        g.ValueInfos["r"] = new ValueInfo("r", DataType.Float, new[] { Dim.Named("batch"), (Dim)4, (Dim)8, new Dim(null) });
        g.Initializers["conv.weight"] = randn(new long[] { 4, 3, 3, 3 }, generator: rng) * 0.3;
        g.Initializers["conv.bias"] = randn(new long[] { 4 }, generator: rng) * 0.1;
        g.Initializers["bn.weight"] = rand(new long[] { 4 }, generator: rng) + 0.5;
        g.Initializers["bn.bias"] = randn(new long[] { 4 }, generator: rng) * 0.1;
        g.Initializers["bn.running_mean"] = randn(new long[] { 4 }, generator: rng) * 0.1;
        g.Initializers["bn.running_var"] = rand(new long[] { 4 }, generator: rng) + 0.5;
        g.Initializers["fc.weight"] = randn(new long[] { 5, 4 }, generator: rng) * 0.5;
        g.Initializers["fc.bias"] = randn(new long[] { 5 }, generator: rng) * 0.1;
        g.Nodes.Add(new Node("conv", "Conv", new[] { "input", "conv.weight", "conv.bias" }, new[] { "c" },
            new Dictionary<string, AttributeValue> { ["pads"] = AttributeValue.FromInts(new long[] { 1, 1, 1, 1 }), ["kernel_shape"] = AttributeValue.FromInts(new long[] { 3, 3 }) }));
        g.Nodes.Add(new Node("bn", "BatchNormalization", new[] { "c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var" }, new[] { "b" },
            new Dictionary<string, AttributeValue> { ["epsilon"] = AttributeValue.FromFloat(1e-5f) }));
        g.Nodes.Add(new Node("relu", "Relu", new[] { "b" }, new[] { "r" }));
        g.Nodes.Add(new Node("pool", "GlobalAveragePool", new[] { "r" }, new[] { "p" }));
        g.Nodes.Add(new Node("flatten", "Flatten", new[] { "p" }, new[] { "f" }));
        g.Nodes.Add(new Node("fc", "Gemm", new[] { "f", "fc.weight", "fc.bias" }, new[] { "logits" },
            new Dictionary<string, AttributeValue> { ["transB"] = AttributeValue.FromInt(1L), ["alpha"] = AttributeValue.FromFloat(1f) }));
        g.Metadata["author"] = "tests";
        return g;
    }

    /// <summary>A temporary folder removed on dispose.</summary>
    public sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("prunesharp-onnx-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
