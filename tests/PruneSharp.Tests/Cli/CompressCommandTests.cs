using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Cli;

public class CompressCommandTests
{
    static (int Code, string Output, string Error) Run(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { CompressCommand.Create(), DecompressCommand.Create() }, args);

    static string PrunedModel(TempFolder folder)
    {
        using var module = ModelZoo.CreateClassifier("lenet-300-100", new ClassifierOptions(Seed: 1));
        var graph = module.ToGraph();
        foreach (string name in new[] { "fc1.weight", "fc2.weight", "fc3.weight" })
            graph.Initializers[name] = graph.Initializers[name].mul(graph.Initializers[name].abs().gt(0.05)).to(ScalarType.Float32);
        string path = folder.File("pruned.onnx");
        OnnxFile.Write(graph, path);
        return path;
    }

    [Fact]
    public void Compress_then_decompress_writes_the_shared_model_and_a_damaged_file_fails_in_one_line()
    {
        using var folder = new TempFolder();
        string model = PrunedModel(folder);
        var compressed = Run("compress", model, "--bits", "fc=4", "-o", folder.File("m.psz"));
        Assert.True(compressed.Code == 0, compressed.Error);
        Assert.Contains("fc1.weight", compressed.Output);
        Assert.Contains("ratio = dense float32 bytes", compressed.Output);

        var decompressed = Run("decompress", folder.File("m.psz"), "-o", folder.File("back.onnx"));
        Assert.True(decompressed.Code == 0, decompressed.Error);
        var back = OnnxFile.Read(folder.File("back.onnx"));
        Assert.True(back.Initializers["fc1.weight"].unique().Item1.numel() <= 17); // 2^4 centroids and zero

        var bytes = File.ReadAllBytes(folder.File("m.psz"));
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(folder.File("bad.psz"), bytes);
        var failed = Run("decompress", folder.File("bad.psz"), "-o", folder.File("bad.onnx"));
        Assert.NotEqual(0, failed.Code);
        Assert.Contains("bad.psz", failed.Error);
        Assert.Contains("checksum mismatch", failed.Error);
        Assert.Single(failed.Error.Trim().Split('\n'));
        Assert.False(File.Exists(folder.File("bad.onnx")));
    }

    [Fact]
    public void Json_output_gives_the_totals_and_every_layer()
    {
        using var folder = new TempFolder();
        var result = Run("compress", PrunedModel(folder), "--json", "-o", folder.File("m.psz"));
        Assert.True(result.Code == 0, result.Error);
        using var json = System.Text.Json.JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.Equal(new FileInfo(folder.File("m.psz")).Length, root.GetProperty("file_bytes").GetInt64());
        Assert.Equal(266_610L * 4, root.GetProperty("original_bytes").GetInt64());
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(new[] { "fc1.weight", "fc2.weight", "fc3.weight" }, layers.Select(l => l.GetProperty("name").GetString()));
        Assert.All(layers, l => Assert.Equal("fc", l.GetProperty("kind").GetString()));
        Assert.Equal(root.GetProperty("original_bytes").GetDouble() / root.GetProperty("huffman_bytes").GetDouble(), root.GetProperty("ratio").GetDouble(), 9);
    }

    [Theory]
    [InlineData("--bits", "fc=17", "1 to 16")]
    [InlineData("--bits", "lstm=4", "unknown layer kind")]
    [InlineData("--finetune-epochs", "1", "needs --data")]
    public void Bad_options_fail_with_the_option_named(string option, string value, string message)
    {
        using var folder = new TempFolder();
        var result = Run("compress", PrunedModel(folder), option, value, "-o", folder.File("m.psz"));
        Assert.NotEqual(0, result.Code);
        Assert.Contains(message, result.Error);
    }
}
