using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Recipes;

/// <summary>
/// The <c>prune</c> verb and <c>run</c> are two faces of one library pipeline: the same choices write the same file
/// and record the same metrics; the pipeline records its run itself, latency included; <c>--quiet</c> and <c>--verbose</c>.
/// </summary>
[Collection(SerialCollection.Name)]
public class PipelineRecordingTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { RunCommand.Create(), PruneCommand.Create() }, args);

    static RunSummary OnlyRun(string store)
    {
        using var runs = RunStores.Open(store);
        return Assert.Single(runs.ListRuns());
    }

    [Fact]
    public void A_prune_flag_set_and_its_recipe_write_the_same_bytes_and_record_the_same_metrics()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), """
            model: lenet-300-100
            seed: 3
            stages:
              - method: random
                granularity: "2:4"
                first_last: prune
                exclude: [fc3.*]
            recovery: {kind: none}
            inputs: {shape: [input=2x1x28x28]}
            export: {path: from-recipe.onnx}
            """);
        var (code, _, error) = Invoke("run", folder.File("r.yaml"), "--store", folder.File("recipe.db"));
        Assert.True(code == 0, error);
        (code, _, error) = Invoke("prune", "lenet-300-100", "--seed", "3", "--method", "random", "--granularity", "2:4",
            "--first-last", "prune", "--exclude", "fc3.*", "--recover", "none", "--shape", "input=2x1x28x28", "--store", folder.File("prune.db"), "-o", folder.File("from-flags.onnx"));
        Assert.True(code == 0, error);

        Assert.Equal(File.ReadAllBytes(folder.File("from-recipe.onnx")), File.ReadAllBytes(folder.File("from-flags.onnx")));
        RunSummary recipe = OnlyRun(folder.File("recipe.db")), flags = OnlyRun(folder.File("prune.db"));
        Assert.Equal((RunStatus.Completed, "recipe"), (recipe.Status, recipe.Kind));
        Assert.Equal((RunStatus.Completed, "prune"), (flags.Status, flags.Kind));
        Assert.Equal(recipe.Metrics.OrderBy(m => m.Key), flags.Metrics.OrderBy(m => m.Key));
        Assert.Equal(recipe.Method, flags.Method);
        // The metrics are those of the file: half of fc1 and fc2 zero (2:4), fc3 dense.
        var weights = OnnxFile.Read(folder.File("from-flags.onnx")).Initializers;
        long pruned = weights["fc1.weight"].numel() + weights["fc2.weight"].numel();
        long zeros = weights["fc1.weight"].eq(0).sum().item<long>() + weights["fc2.weight"].eq(0).sum().item<long>();
        Assert.Equal(pruned / 2, zeros);
        Assert.Equal(weights.Values.Sum(w => w.numel()), (long)flags.Metrics[MetricNames.Parameters]);
        Assert.Equal(weights.Values.Sum(w => w.numel() - w.eq(0).sum().item<long>()), (long)flags.Metrics[MetricNames.NonZeros]);
        // The example input is 2x1x28x28 (inputs.shape / --shape): the MACs counted are those of a batch of 2.
        Assert.Equal(2 * (784 * 300 + 300 * 100 + 100 * 10), flags.Metrics[MetricNames.Macs]);
    }

    [Fact]
    public void The_pipeline_records_its_stages_layers_artifact_and_latency()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), """
            model: lenet-300-100
            stages:
              - {method: magnitude, sparsity: 0.5}
              - {method: magnitude, sparsity: 0.8}
            recovery: {kind: none}
            evaluate: {latency: true, threads: 1, rounds: 5}
            export: {path: out.onnx}
            """);
        var (code, output, error) = Invoke("run", folder.File("r.yaml"), "--store", folder.File("runs.db"));
        Assert.True(code == 0, error);
        Assert.Contains("latency at batch 1 (ONNX Runtime, 1 thread(s), median of 5)", output);
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        var metrics = run.Summary.Metrics;
        Assert.True(metrics[MetricNames.LatencyMs] > 0 && metrics[MetricNames.DenseLatencyMs] > 0);
        Assert.Equal(1, metrics["latency_threads"]);
        // One step per stage, the second at the later sparsity.
        var sparsity = run.Steps.Where(s => s.Name == "stage_sparsity").OrderBy(s => s.Step).ToList();
        Assert.Equal(new long[] { 1, 2 }, sparsity.Select(s => s.Step));
        Assert.True(sparsity[0].Value < sparsity[1].Value);
        Assert.Equal(0.8, metrics[MetricNames.Sparsity], 3);
        var artifact = Assert.Single(run.Artifacts);
        Assert.Equal(("model", Path.GetFullPath(folder.File("out.onnx"))), (artifact.Role, artifact.Path));
        Assert.Equal(RunArtifact.FromFile("model", folder.File("out.onnx")).Sha256, artifact.Sha256);
        Assert.Equal(OnnxFile.Read(folder.File("out.onnx")).Initializers.Count, run.Layers.Count);
    }

    [Fact]
    public void Latency_needs_an_export()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), "model: lenet-300-100\nstages: [{method: magnitude, sparsity: 0.5}]\nevaluate: {latency: true}\n");
        var (code, _, error) = Invoke("run", folder.File("r.yaml"), "--no-store");
        Assert.Equal(1, code);
        Assert.Contains("evaluate.latency times the written model: give export.path", error);
    }

    [Fact]
    public void Quiet_prints_only_the_result_line_and_verbose_the_stage_timings()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", "lenet-300-100", "--sparsity", "0.5", "--no-store", "--latency", "--latency-rounds", "3", "-q", "-o", folder.File("q.onnx"));
        Assert.True(code == 0, error);
        string line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"saved {folder.File("q.onnx")}, sparsity ", line);
        Assert.Contains(" ms", line);
        Assert.Equal("", error);

        (code, output, error) = Invoke("prune", "lenet-300-100", "--sparsity", "0.5", "--no-store", "--verbose", "-o", folder.File("v.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("stage 1 took ", error);
        Assert.Contains("parameter", output); // the full table still
        Assert.Equal(File.ReadAllBytes(folder.File("q.onnx")), File.ReadAllBytes(folder.File("v.onnx")));

        (code, _, error) = Invoke("prune", "lenet-300-100", "--sparsity", "0.5", "--no-store", "-q", "--verbose", "-o", folder.File("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("--quiet and --verbose contradict each other", error);
    }
}
