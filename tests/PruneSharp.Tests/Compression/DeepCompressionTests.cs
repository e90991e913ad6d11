using PruneSharp.Compression;
using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Tests.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Compression;

public class DeepCompressionTests
{
    /// <summary>The small CNN of the ONNX tests with about 60% of its conv and fc weights set to zero.</summary>
    static PruneSharp.Graph.Graph PrunedCnn()
    {
        var graph = TestGraphs.SmallCnn();
        var rng = new Generator(5);
        foreach (string name in new[] { "conv.weight", "fc.weight" })
        {
            var w = graph.Initializers[name];
            graph.Initializers[name] = w.mul(rand(w.shape, generator: rng).gt(0.6)).to(ScalarType.Float32);
        }
        return graph;
    }

    static PruneSharp.Graph.Graph PrunedLeNet300()
    {
        using var module = ModelZoo.CreateClassifier("lenet-300-100", new ClassifierOptions(Seed: 3));
        var graph = module.ToGraph();
        var rng = new Generator(8);
        foreach (var (name, _) in DeepCompression.FindLayers(graph).ToList())
        {
            var w = graph.Initializers[name];
            graph.Initializers[name] = w.mul(rand(w.shape, generator: rng).gt(0.9)).to(ScalarType.Float32);
        }
        return graph;
    }

    [Fact]
    public void Finds_conv_and_fully_connected_weights_only()
    {
        var layers = DeepCompression.FindLayers(TestGraphs.SmallCnn());
        Assert.Equal(new[] { ("conv.weight", LayerKind.Convolution), ("fc.weight", LayerKind.FullyConnected) }, layers);
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("lenet-300-100")]
    public void Decompressing_gives_exactly_the_shared_weight_model_in_onnx_runtime(string which)
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = which == "cnn" ? PrunedCnn() : PrunedLeNet300();
        var options = new CompressionOptions { ConvolutionBits = 4, FullyConnectedBits = 3, ConvolutionIndexBits = 3, FullyConnectedIndexBits = 2 };
        var result = DeepCompression.Compress(graph, folder.File("m.psz"), options);
        OnnxFile.Write(result.Final.Graph, folder.File("shared.onnx"));
        DeepCompression.Decompress(folder.File("m.psz"), folder.File("back.onnx"));

        // The same weights, bit for bit, and the zeros of the pruned input kept.
        var shared = OnnxFile.Read(folder.File("shared.onnx"));
        var back = OnnxFile.Read(folder.File("back.onnx"));
        Assert.Equal(shared.Initializers.Keys, back.Initializers.Keys);
        foreach (var (name, value) in shared.Initializers) Assert.True(value.eq(back.Initializers[name]).all().item<bool>(), name);
        foreach (var layer in result.Final.Layers)
        {
            Assert.True(back.Initializers[layer.Name].eq(0).eq(graph.Initializers[layer.Name].eq(0)).all().item<bool>(), $"zeros of {layer.Name}");
            Assert.True(back.Initializers[layer.Name].unique().Item1.numel() <= (1 << layer.Bits) + 1, $"distinct values of {layer.Name}");
        }

        // Both files give identical outputs in ONNX Runtime, and our executor agrees with it.
        using var runtimeShared = new OnnxRuntimeRunner(folder.File("shared.onnx"));
        using var runtimeBack = new OnnxRuntimeRunner(folder.File("back.onnx"));
        var x = which == "cnn" ? randn(3, 3, 8, 8, generator: new Generator(1)) : randn(3, 1, 28, 28, generator: new Generator(1));
        string input = runtimeBack.InputNames[0], output = runtimeBack.OutputNames[0];
        var expected = runtimeShared.Run(new Dictionary<string, Tensor> { [input] = x })[output];
        var actual = runtimeBack.Run(new Dictionary<string, Tensor> { [input] = x })[output];
        Assert.True(expected.eq(actual).all().item<bool>());
        using var module = new GraphModule(back);
        module.eval();
        using (no_grad()) Assert.True(module.call(x).allclose(actual, 1e-4, 1e-5));
    }

    [Fact]
    public void The_report_adds_up_and_matches_the_file()
    {
        using var folder = new TestGraphs.TempFolder();
        var result = DeepCompression.Compress(PrunedLeNet300(), folder.File("m.psz"), new CompressionOptions());
        var report = result.Report;
        Assert.Equal(new FileInfo(folder.File("m.psz")).Length, report.FileBytes);
        Assert.Equal(266_610L * 4, report.OriginalBytes);
        Assert.Equal(410L * 4, report.OtherBytes); // the biases
        foreach (var layer in report.Layers)
        {
            Assert.Equal(layer.Weights * 4, layer.OriginalBytes);
            Assert.True(layer.Entries >= layer.Kept);
            // Huffman codes cost at most about what fixed-width codes do (a padding symbol may add a bit to some), plus
            // the code-length tables and the payload's fixed fields.
            long tables = layer.Clusters + 1 + (1L << layer.IndexBits) + 8 * 4 + 32;
            Assert.True(layer.HuffmanBytes <= layer.QuantizedBytes + layer.Entries / 8 + 1 + tables, layer.Name);
            Assert.True(layer.QuantizedBytes < layer.PrunedBytes, layer.Name);
        }
        Assert.True(report.FileBytes > report.HuffmanBytes);
        Assert.Equal((double)report.OriginalBytes / report.HuffmanBytes, report.Ratio);
    }

    [Fact]
    public void A_layer_that_does_not_match_the_stored_model_is_refused()
    {
        using var folder = new TestGraphs.TempFolder();
        var shared = DeepCompression.Share(PrunedCnn(), new CompressionOptions());
        var file = DeepCompression.Pack(shared);
        var renamed = file with { Layers = file.Layers.Select(l => l.Name == "fc.weight" ? l with { Name = "missing.weight" } : l).ToList() };
        var e = Assert.Throws<PszFormatException>(() => DeepCompression.Unpack(renamed, "m.psz"));
        Assert.Equal("missing.weight", e.Section);
        var reshaped = file with { Layers = file.Layers.Select(l => l.Name == "fc.weight" ? l with { Shape = new long[] { 4, 5 } } : l).ToList() };
        Assert.Contains("[5,4]", Assert.Throws<PszFormatException>(() => DeepCompression.Unpack(reshaped, "m.psz")).Message);
    }
}
