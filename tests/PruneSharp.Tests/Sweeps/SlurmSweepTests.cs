using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Sweeps;

/// <summary>
/// <c>prunesharp sweep --backend slurm</c> for real: a job array submitted with sbatch to a local Slurm cluster, its
/// tasks running the built CLI and recording to PostgreSQL; a task cancelled while it runs is the only cell the next
/// submission runs, and no cell ends with two completed rows.
/// </summary>
[Collection(SerialCollection.Name)]
public class SlurmSweepTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { SweepCommand.Create(), RunCommand.Create() }, args);

    [ClusterFact]
    public void A_slurm_sweep_records_every_cell_in_postgres_and_a_resubmission_runs_only_the_cancelled_task()
    {
        using var slurm = new SlurmCluster();
        using var folder = new TempFolder();
        string store = PostgresCluster.Instance.NewDatabase(), output = folder.File("sweep");
        string[] Sweep(string sparsities, int jobs) =>
        [
            "sweep", Path.Combine(Repository.Root(), "examples", "magnitude.yaml"), "--grid", $"sparsity={sparsities}", "--grid", "method=magnitude,random",
            "--seeds", "1", "--set", "data.train_examples=256", "--set", "data.test_examples=256", "--jobs", jobs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--backend", "slurm", "--store", store, "--out", output, "--json",
        ];

        // The 4-cell sweep: one array of 4 tasks, two at a time; every cell completes in PostgreSQL.
        var first = Submit(Sweep("0.5,0.8", jobs: 2));
        Assert.Equal(4, first.GetProperty("to_run").GetInt32());
        WaitUntilDone(slurm, first.GetProperty("job_id").GetString()!, output);
        var completed = Completed(store);
        Assert.True(completed.Count == 4, Outputs(output) + slurm.Logs());
        Assert.Equal(4, completed.Distinct().Count());

        // A wider sweep adds 2 cells, run one at a time; the first is cancelled while it runs.
        var second = Submit(Sweep("0.5,0.8,0.9", jobs: 1));
        Assert.Equal(2, second.GetProperty("to_run").GetInt32());
        string job = second.GetProperty("job_id").GetString()!, cancelled = File.ReadLines(Path.Combine(output, "cells.txt")).First();
        slurm.WaitFor(() => slurm.Run("squeue", "--noheader", "--array", $"--jobs={job}", "--states=RUNNING", "--format=%i").Contains($"{job}_1"),
            TimeSpan.FromSeconds(30), $"task 1 of job {job} did not start");
        slurm.Run("scancel", $"{job}_1");
        WaitUntilDone(slurm, job, output);
        completed = Completed(store);
        Assert.True(completed.Count == 5, Outputs(output));
        Assert.Equal(5, completed.Distinct().Count());

        // Resubmitting runs exactly the cancelled cell; then all 6 have one completed row each, and nothing is left.
        var third = Submit(Sweep("0.5,0.8,0.9", jobs: 1));
        Assert.Equal(1, third.GetProperty("to_run").GetInt32());
        Assert.Equal([cancelled], File.ReadAllLines(Path.Combine(output, "cells.txt")));
        WaitUntilDone(slurm, third.GetProperty("job_id").GetString()!, output);
        completed = Completed(store);
        Assert.True(completed.Count == 6, Outputs(output));
        Assert.Equal(6, completed.Distinct().Count());
        Assert.Equal(0, Submit(Sweep("0.5,0.8,0.9", jobs: 1)).GetProperty("to_run").GetInt32());
    }

    static JsonElement Submit(string[] args)
    {
        var (code, text, error) = Invoke(args);
        Assert.True(code == 0, error + text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The names (cell identities) of the completed runs in the store, one per completed row.</summary>
    static List<string> Completed(string store)
    {
        using var runs = RunStores.Open(store);
        return runs.ListRuns(new RunFilter { Kind = RunCommand.Kind, Status = RunStatus.Completed }).Select(r => r.Name!).ToList();
    }

    /// <summary>Waits (up to 90 s) until no task of <paramref name="job"/> is pending or running.</summary>
    static void WaitUntilDone(SlurmCluster slurm, string job, string output) =>
        slurm.WaitFor(() => slurm.Run("squeue", "--noheader", "--array", $"--jobs={job}", "--states=PENDING,CONFIGURING,RUNNING,COMPLETING", "--format=%i").Trim() == "",
            TimeSpan.FromSeconds(90), $"job {job} did not finish\n{Outputs(output)}");

    /// <summary>The tasks' output files, for failure messages.</summary>
    static string Outputs(string folder) => string.Join("\n", Directory.GetFiles(folder, "slurm-*.out").Order()
        .Select(path => $"--- {path}:\n" + string.Join("\n", File.ReadLines(path).TakeLast(10))));
}
