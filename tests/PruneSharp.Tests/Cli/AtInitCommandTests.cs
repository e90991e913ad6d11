using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

[Collection(SerialCollection.Name)]
public class AtInitCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { TrainCommand.Create(), PruneCommand.Create() }, args);

    [Fact]
    public void Train_at_init_synflow_writes_a_model_with_the_zeros_and_reports_the_layers()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder), model = folder.File("m.onnx");
        var (code, output, error) = Invoke("train", "--model", "lenet-5", "--data", data, "--epochs", "1", "--batch-size", "32",
            "--at-init", "synflow", "--sparsity", "0.95", "--at-init-rounds", "10", "--json", "-o", model);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var atInit = json.RootElement.GetProperty("at_init");
        Assert.Equal("synflow", atInit.GetProperty("method").GetString());
        Assert.Equal(10, atInit.GetProperty("rounds").GetInt32());
        Assert.True(atInit.GetProperty("path_survives").GetBoolean());
        Assert.Equal(0.95, atInit.GetProperty("sparsity").GetDouble(), 3);
        // The written model carries the mask as zeros after training.
        var graph = OnnxFile.Read(model);
        long weights = 0, zeros = 0;
        foreach (var layer in atInit.GetProperty("layers").EnumerateArray())
        {
            var w = graph.Initializers[layer.GetProperty("name").GetString()!];
            weights += w.numel();
            zeros += w.eq(0).sum().item<long>();
            Assert.Equal(layer.GetProperty("kept").GetInt64(), w.numel() - w.eq(0).sum().item<long>());
        }
        Assert.Equal(0.95, (double)zeros / weights, 3);
    }

    [Theory]
    [InlineData("--at-init", "foo", "--sparsity", "0.5", "--at-init 'foo' is not one of")]
    [InlineData("--at-init", "snip", "--at-init-rounds", "2", "--at-init needs --sparsity")]
    [InlineData("--sparsity", "0.5", "--epochs", "1", "--sparsity needs --at-init")]
    [InlineData("--at-init", "grasp", "--sparsity", "0.5", "--at-init-scope", "row", "--at-init-scope 'row' is not one of")]
    public void Bad_at_init_options_fail_with_one_line(params string[] extra)
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 8);
        var (code, _, error) = Invoke(["train", "--model", "lenet-5", "--data", data, "-o", folder.File("m.onnx"), .. extra[..^1]]);
        Assert.NotEqual(0, code);
        Assert.Contains(extra[^1], error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
