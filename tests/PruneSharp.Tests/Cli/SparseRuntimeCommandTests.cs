using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary><c>run-sparse</c> and <c>bench</c> on a LeNet-300-100 pruned to 90 % by <c>prune</c>.</summary>
[Collection(SerialCollection.Name)]
public class SparseRuntimeCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { PruneCommand.Create(), RunSparseCommand.Create(), BenchCommand.Create() }, args);

    static string Pruned(TempFolder folder)
    {
        string path = folder.File("lenet300-90.onnx");
        var (code, _, error) = Invoke("prune", "lenet-300-100", "--sparsity", "0.9", "--first-last", "prune", "-o", path);
        Assert.True(code == 0, error);
        return path;
    }

    [Fact]
    public void Run_sparse_runs_every_layer_sparse_and_agrees_with_onnx_runtime()
    {
        using var folder = new TempFolder();
        string model = Pruned(folder);
        var (code, output, error) = Invoke("run-sparse", model, "--always-sparse", "--shape", "input=4x1x28x28", "--runs", "2", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var layers = json.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(new[] { "fc1", "fc2", "fc3" }, layers.Select(l => l.GetProperty("node").GetString()));
        Assert.All(layers, l => Assert.Equal("sparse", l.GetProperty("decisions")[0].GetProperty("kernel").GetString()));
        Assert.True(json.RootElement.GetProperty("passed").GetBoolean());
        var plan = json.RootElement.GetProperty("plan");
        Assert.True(plan.GetProperty("compiled").GetBoolean());
        Assert.Equal(new[] { "fc1+relu1", "fc2+relu2", "fc3" }, plan.GetProperty("steps").EnumerateArray().Select(s => string.Join("+", s.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()))));
        Assert.All(layers, l => Assert.True(l.GetProperty("decisions")[0].GetProperty("compiled").GetBoolean()));
        Assert.InRange(json.RootElement.GetProperty("outputs")[0].GetProperty("max_abs_diff").GetDouble(), 0, 1e-4);
    }

    [Fact]
    public void Bench_times_the_model_against_its_baseline_and_the_sparse_runtime_per_batch()
    {
        using var folder = new TempFolder();
        string model = Pruned(folder);
        var (code, output, error) = Invoke("bench", model, "--baseline", model, "--sparse", "--batch", "1,3", "--rounds", "3", "--threads", "1", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var batches = json.RootElement.GetProperty("batches").EnumerateArray().ToList();
        Assert.Equal(new[] { 1, 3 }, batches.Select(b => b.GetProperty("batch").GetInt32()));
        foreach (var batch in batches)
        {
            var rows = batch.GetProperty("rows").EnumerateArray().ToList();
            Assert.Equal(new[] { "onnxruntime", "onnxruntime baseline", "libtorch dense", "sparse" }, rows.Select(r => r.GetProperty("name").GetString()));
            Assert.All(rows, r => Assert.True(r.GetProperty("median_ms").GetDouble() > 0));
            Assert.True(rows[1].GetProperty("speedup").GetDouble() == 1);
        }
        Assert.Equal(3, json.RootElement.GetProperty("sparse_layers").GetArrayLength());
        Assert.True(json.RootElement.GetProperty("sparse_plan").GetProperty("compiled").GetBoolean());
    }

    [Fact]
    public void Bad_batch_lists_and_thread_counts_are_refused_in_one_line()
    {
        using var folder = new TempFolder();
        string model = Pruned(folder);
        var (code, _, error) = Invoke("bench", model, "--batch", "1,x");
        Assert.Equal(1, code);
        Assert.Contains("--batch '1,x'", error);
        (code, _, error) = Invoke("run-sparse", model, "--threads", "0");
        Assert.Equal(1, code);
        Assert.Contains("--threads", error);
    }
}
