using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Sweeps;

/// <summary><c>prunesharp sweep</c>: cells run as child processes that record to the store; a rerun runs only what is missing.</summary>
[Collection(SerialCollection.Name)]
public class SweepCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { SweepCommand.Create(), RunCommand.Create() }, args);

    [Fact]
    public void A_sweep_runs_each_cell_once_and_a_rerun_runs_only_the_new_cells()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), SweepGridTests.Recipe);
        string store = folder.File("runs.db"), output = folder.File("sweep");
        var (code, text, error) = Invoke("sweep", folder.File("r.yaml"), "--grid", "sparsity=0.5,0.7", "--seeds", "2", "--jobs", "2",
            "--store", store, "--out", output, "--json");
        Assert.True(code == 0, error + text);
        var cells = JsonDocument.Parse(text).RootElement.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(4, cells.Count);
        Assert.All(cells, c => Assert.Equal("completed", c.GetProperty("status").GetString()));

        using (var runs = RunStores.Open(store))
        {
            var recorded = runs.ListRuns(new RunFilter { Kind = RunCommand.Kind, Status = RunStatus.Completed });
            Assert.Equal(cells.Select(c => c.GetProperty("identity").GetString()).Order(), recorded.Select(r => r.Name).Order());
            Assert.All(recorded, r => Assert.Equal("r", r.Group));
        }
        foreach (var cell in cells)
        {
            // Each cell's model holds its own sparsity (local scope: every layer at the target; first and last pruned below 0.8).
            double sparsity = double.Parse(cell.GetProperty("overrides").GetProperty("sparsity").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var weights = OnnxFile.Read(Path.Combine(output, cell.GetProperty("identity").GetString() + ".onnx")).Initializers;
            foreach (var name in new[] { "fc1.weight", "fc2.weight", "fc3.weight" })
                Assert.Equal(sparsity, weights[name].eq(0).sum().item<long>() / (double)weights[name].numel(), 2);
        }

        (code, text, error) = Invoke("sweep", folder.File("r.yaml"), "--grid", "sparsity=0.5,0.7,0.9", "--seeds", "2",
            "--store", store, "--out", output, "--json");
        Assert.True(code == 0, error + text);
        var again = JsonDocument.Parse(text).RootElement.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(4, again.Count(c => c.GetProperty("status").GetString() == "skipped"));
        Assert.Equal(2, again.Count(c => c.GetProperty("status").GetString() == "completed"));
    }

    [Fact]
    public void The_slurm_backend_writes_only_the_cells_still_to_run()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), "model: lenet-300-100\nstages: [{method: random, sparsity: 0.5}]\nrecovery: {kind: none}\n");
        var (code, text, error) = Invoke("sweep", folder.File("r.yaml"), "--grid", "sparsity=0.3,0.6", "--seeds", "3", "--jobs", "2",
            "--backend", "slurm", "--no-submit", "--store", folder.File("runs.db"), "--out", folder.File("s"), "--json");
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(text).RootElement;
        Assert.Equal(6, report.GetProperty("to_run").GetInt32());
        Assert.Equal(6, File.ReadAllLines(folder.File("s", "cells.txt")).Length);
        Assert.Contains("#SBATCH --array=1-6%2", File.ReadAllText(report.GetProperty("script").GetString()!));
    }
}
