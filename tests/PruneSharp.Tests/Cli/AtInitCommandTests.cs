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

    [Theory]
    [InlineData("taylor", "0")]
    [InlineData("obd", "0")]
    [InlineData("loss-change", "0")]
    [InlineData("apoz", "0")]
    [InlineData("movement", "1")]
    public void Prune_with_a_data_driven_criterion_writes_the_zeros(string method, string epochs)
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 32), model = folder.File("m.onnx");
        var (code, output, error) = Invoke("prune", "lenet-300-100", "--method", method, "--data", data, "--sparsity", "0.9", "--first-last", "keep",
            "--finetune-epochs", epochs, "--batch-size", "16", "--json", "-o", model);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var layer = Assert.Single(json.RootElement.GetProperty("layers").EnumerateArray());
        Assert.Equal(0.9, layer.GetProperty("sparsity").GetDouble(), 3);
        var w = OnnxFile.Read(model).Initializers[layer.GetProperty("name").GetString()!];
        Assert.Equal(0.9, w.eq(0).sum().item<long>() / (double)w.numel(), 3);
    }

    [Theory]
    [InlineData("--method taylor needs --data", "--method", "taylor", "--sparsity", "0.5")]
    [InlineData("--method movement accumulates its scores while fine-tuning", "--method", "movement", "--sparsity", "0.5", "--data", "DATA")]
    [InlineData("(the classifier?)", "--method", "apoz", "--sparsity", "0.5", "--data", "DATA", "--first-last", "prune")]
    public void Data_driven_criteria_refuse_what_they_cannot_score_in_one_line(string message, params string[] extra)
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 16);
        var (code, _, error) = Invoke(["prune", "lenet-300-100", "-o", folder.File("m.onnx"), .. extra.Select(a => a == "DATA" ? data : a)]);
        Assert.NotEqual(0, code);
        // The error is one line (a model at initialisation may also draw the near-chance warning before it).
        var lines = error.Trim().Split('\n');
        Assert.Contains(message, lines[^1]);
        Assert.All(lines[..^1], l => Assert.Contains("warning", l));
    }
}
