using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Runs;
using PruneSharp.Tests.Cli;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Runs;

/// <summary>
/// The verbs record their runs and <c>runs</c>/<c>report</c> read them: in-process for the JSON shapes, as separate
/// processes for several writers at once and for a run killed outright (SIGKILL), which a reader marks killed.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class RunsCommandTests : IDisposable
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "PruneSharp.Cli.dll");

    readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { PruneCommand.Create(), TrainCommand.Create(), RunsCommand.Create(), ReportCommand.Create() }, args);

    static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])[Cli, .. args]) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public void Prune_records_a_run_that_runs_list_show_compare_and_report_read()
    {
        string store = _folder.File("runs.db");
        foreach (string sparsity in new[] { "0.5", "0.75" })
        {
            var (code, _, error) = Invoke("prune", "lenet-5", "--sparsity", sparsity, "--store", store, "-o", _folder.File($"p{sparsity}.onnx"));
            Assert.True(code == 0, error);
        }
        Assert.Equal(0, Invoke("prune", "lenet-5", "--sparsity", "0.5", "--no-store", "--store", store, "-o", _folder.File("x.onnx")).Code);

        var (listCode, listed, listError) = Invoke("runs", "list", "--store", store, "--json");
        Assert.True(listCode == 0, listError);
        var runs = JsonDocument.Parse(listed).RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(2, runs.Count); // --no-store recorded nothing
        Assert.All(runs, r => Assert.Equal("completed", r.GetProperty("status").GetString()));
        Assert.Equal([0.75, 0.5], runs.Select(r => r.GetProperty("target_sparsity").GetDouble()));
        Assert.All(runs, r => Assert.Equal(r.GetProperty("target_sparsity").GetDouble(), r.GetProperty("metrics").GetProperty("sparsity").GetDouble(), 2));

        long id = runs[1].GetProperty("id").GetInt64();
        var shown = JsonDocument.Parse(Invoke("runs", "show", id.ToString(), "--store", store, "--json").Output).RootElement;
        var artifact = Assert.Single(shown.GetProperty("artifacts").EnumerateArray());
        Assert.Equal(_folder.File("p0.5.onnx"), artifact.GetProperty("path").GetString());
        Assert.Equal(RunArtifact.FromFile("model", _folder.File("p0.5.onnx")).Sha256, artifact.GetProperty("sha256").GetString());
        Assert.NotEmpty(shown.GetProperty("layers").EnumerateArray());
        Assert.Equal("0.5", shown.GetProperty("parameters").GetProperty("--sparsity").GetString());

        var compared = JsonDocument.Parse(Invoke("runs", "compare", runs[1].GetProperty("id").ToString(), runs[0].GetProperty("id").ToString(), "--store", store, "--json").Output).RootElement;
        var option = Assert.Single(compared.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "--sparsity");
        Assert.Equal(("0.5", "0.75"), (option.GetProperty("first").GetString(), option.GetProperty("second").GetString()));
        var difference = Assert.Single(compared.GetProperty("metrics").EnumerateArray(), m => m.GetProperty("name").GetString() == "sparsity");
        Assert.Equal(0.25, difference.GetProperty("difference").GetDouble(), 2);

        var (reportCode, _, reportError) = Invoke("report", store, "-o", _folder.File("report.html"));
        Assert.True(reportCode == 0, reportError);
        Assert.Contains("<section id=\"layers\">", File.ReadAllText(_folder.File("report.html")));

        var (missingCode, _, missing) = Invoke("runs", "list", "--store", _folder.File("none.db"));
        Assert.Equal(1, missingCode);
        Assert.Contains("no run store at", missing);
        Assert.False(File.Exists(_folder.File("none.db")));
    }

    [Fact]
    public void Several_processes_record_into_one_store_at_once()
    {
        string store = _folder.File("runs.db");
        var processes = Enumerable.Range(0, 4).Select(i =>
            Start("prune", "lenet-5", "--sparsity", "0.5", "--seed", i.ToString(), "--threads", "1", "--store", store, "-o", _folder.File($"p{i}.onnx"))).ToList();
        foreach (var process in processes)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "prune did not end");
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            process.Dispose();
        }
        using var runs = new SqliteRunStore(store);
        var list = runs.ListRuns();
        Assert.Equal(4, list.Count);
        Assert.All(list, r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.Equal([0L, 1, 2, 3], list.Select(r => r.Seed!.Value).Order());
        Assert.Equal(4, list.Select(r => r.ProcessId).Distinct().Count());
    }

    [Fact]
    public void Two_processes_writing_one_output_are_both_recorded_and_runs_show_names_the_other()
    {
        string store = _folder.File("runs.db"), output = _folder.File("same.onnx");
        var processes = Enumerable.Range(0, 2).Select(i =>
            Start("prune", "lenet-5", "--sparsity", "0.5", "--seed", i.ToString(), "--threads", "1", "--store", store, "-o", output)).ToList();
        foreach (var process in processes)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "prune did not end");
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            process.Dispose();
        }
        long[] ids;
        using (var runs = new SqliteRunStore(store))
        {
            ids = runs.ListRuns().Select(r => r.Id).Order().ToArray();
            Assert.Equal(2, ids.Length);
            var first = runs.GetRun(ids[0]).Contests.Single();
            var second = runs.GetRun(ids[1]).Contests.Single();
            Assert.Equal((output, ids[1]), (first.Path, first.OtherRunId));
            Assert.Equal((output, ids[0]), (second.Path, second.OtherRunId));
            Assert.Equal(first.WinnerRunId, second.WinnerRunId);
            // The file holds the write of the run that hashed it last, where the two recorded different bytes.
            if (first.WinnerRunId is { } winner)
                Assert.Equal(RunArtifact.FromFile("model", output).Sha256, runs.GetRun(winner).Artifacts.Single(a => a.Path == output).Sha256);
        }
        var (code, shown, error) = Invoke("runs", "show", ids[0].ToString(), "--store", store);
        Assert.True(code == 0, error);
        Assert.Contains("contested outputs", shown);
        Assert.Contains($"run {ids[1]}", shown);
    }

    [Fact]
    public void A_run_killed_outright_is_marked_killed_with_its_steps_kept()
    {
        string store = _folder.File("runs.db");
        string data = ReliabilityTests.Data(_folder, count: 256);
        using var process = Start("train", "--model", "lenet-5", "--data", data, "--epochs", "1000", "--batch-size", "32", "--threads", "1", "--store", store, "-o", _folder.File("m.onnx"));
        // Wait for the run to record an epoch, then kill the process without warning.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2) && !process.HasExited, "the run recorded no epoch");
            if (File.Exists(store))
            {
                using var look = new SqliteRunStore(store);
                if (look.ListRuns() is [{ Status: RunStatus.Running } run] && look.GetRun(run.Id).Steps.Count > 0) break;
            }
            Thread.Sleep(200);
        }
        process.Kill();
        process.WaitForExit();
        using var runs = new SqliteRunStore(store);
        RunSummary killed = Assert.Single(runs.ListRuns());
        Assert.Equal(RunStatus.Killed, killed.Status);
        Assert.Contains($"process {process.Id}", killed.Error);
        Assert.Empty(killed.Metrics); // never half-written
        Assert.Contains(runs.GetRun(killed.Id).Steps, s => s.Name == "train_loss");
    }
}
