using System.Diagnostics;
using PruneSharp.Metrics;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Runs;

/// <summary>One store of either kind for one test: a fresh SQLite file or a fresh PostgreSQL database.</summary>
internal sealed class StoreUnderTest : IDisposable
{
    readonly TempFolder _folder = new();

    public StoreUnderTest(string kind)
    {
        Kind = kind;
        Location = kind == "sqlite" ? _folder.File("runs.db") : PostgresCluster.Instance.NewDatabase();
    }

    public string Kind { get; }

    /// <summary>The file path or <c>postgres://</c> address.</summary>
    public string Location { get; }

    /// <summary>Opens a (further) handle on the store, recording runs as <paramref name="owner"/>'s.</summary>
    public SqlRunStore Open(RunOwner? owner = null, TimeSpan? staleAfter = null) => Kind == "sqlite"
        ? new SqliteRunStore(Location) { Owner = owner ?? RunOwner.Current, StaleAfter = staleAfter ?? TimeSpan.FromMinutes(2) }
        : new PostgresRunStore(Location) { Owner = owner ?? RunOwner.Current, StaleAfter = staleAfter ?? TimeSpan.FromMinutes(2) };

    public void Dispose() => _folder.Dispose();
}

/// <summary>
/// What every run store does, tested against each implementation: a run reads back as written, it ends once and
/// whole, runs of processes that are gone are marked killed, and many writers at once lose nothing.
/// </summary>
public sealed class RunStoreTests
{

    internal static readonly RunEnvironment Environment = new("1.2.3", "0.107.0", "2.10.0", "1.31.1", ".NET 10", "Linux (X64)", "host-a", 16, 4, "cpu");

    internal static RunStart Start(string method = "magnitude", long seed = 1, double target = 0.5, string? group = null) => new()
    {
        Kind = "prune",
        Name = $"{method}-{seed}",
        Group = group,
        Method = method,
        Model = "lenet-5",
        Dataset = "fashion-mnist",
        Seed = seed,
        TargetSparsity = target,
        Recipe = "stages:\n  - prune: {sparsity: 0.5}\n",
        Command = "prunesharp prune lenet-5 --sparsity 0.5",
        Parameters = new Dictionary<string, string> { ["criterion"] = "magnitude", ["scope"] = "global" },
        Environment = Environment,
    };

    [Theory, SqliteStore, PostgresStore]
    public void Run_reads_back_as_written(string kind)
    {
        using var under = new StoreUnderTest(kind);
        using var store = under.Open();
        long id = store.BeginRun(Start(group: "sweep-1"));
        store.RecordStep(id, 0, new Dictionary<string, double> { ["loss"] = 2.5, ["accuracy"] = 0.1 });
        store.RecordStep(id, 1, new Dictionary<string, double> { ["loss"] = 1.5 });
        store.RecordStep(id, 1, new Dictionary<string, double> { ["loss"] = 1.25 }); // replaces
        var layers = new[] { new ParameterSparsity("conv1.weight", [6, 1, 5, 5], 150, 75), new ParameterSparsity("fc.bias", [10], 10, 10) };
        var outcome = new RunOutcome
        {
            Metrics = new Dictionary<string, double> { ["accuracy"] = 0.875, ["sparsity"] = 0.5, ["perplexity"] = double.PositiveInfinity, ["odd"] = double.NaN },
            Layers = layers,
            Artifacts = [new RunArtifact("model", "/tmp/x.onnx", new string('a', 64), 1234)],
        };
        store.FinishRun(id, RunStatus.Completed, outcome);

        using var reader = under.Open();
        RunRecord run = reader.GetRun(id);
        Assert.Equal(RunStatus.Completed, run.Summary.Status);
        Assert.Equal(("prune", "magnitude-1", "sweep-1", "magnitude", "lenet-5", "fashion-mnist", 1L, 0.5),
            (run.Summary.Kind, run.Summary.Name, run.Summary.Group, run.Summary.Method, run.Summary.Model, run.Summary.Dataset, run.Summary.Seed!.Value, run.Summary.TargetSparsity!.Value));
        Assert.Equal(Start().Recipe, run.Recipe);
        Assert.Equal(Start().Command, run.Command);
        Assert.Equal(Start().Parameters.OrderBy(p => p.Key), run.Parameters.OrderBy(p => p.Key));
        Assert.Equal(Environment, run.Environment);
        Assert.Equal([new StepMetric(0, "accuracy", 0.1), new StepMetric(0, "loss", 2.5), new StepMetric(1, "loss", 1.25)], run.Steps);
        Assert.Equal(0.875, run.Summary.Metrics["accuracy"]);
        Assert.True(double.IsPositiveInfinity(run.Summary.Metrics["perplexity"]));
        Assert.True(double.IsNaN(run.Summary.Metrics["odd"]));
        Assert.Equal(layers.Select(l => (l.Name, string.Join(',', l.Shape), l.Parameters, l.NonZeros)),
            run.Layers.Select(l => (l.Name, string.Join(',', l.Shape), l.Parameters, l.NonZeros)));
        Assert.Equal(outcome.Artifacts, run.Artifacts);
        Assert.Equal(System.Environment.ProcessId, run.Summary.ProcessId);
        Assert.NotNull(run.Summary.EndedAt);
        Assert.Null(run.Summary.Error);

        RunSummary listed = Assert.Single(reader.ListRuns(new RunFilter { Group = "sweep-1" }));
        Assert.Equal(id, listed.Id);
        Assert.Equal(0.5, listed.Metrics["sparsity"]);
    }

    [Theory, SqliteStore, PostgresStore]
    public void A_run_ends_once(string kind)
    {
        using var under = new StoreUnderTest(kind);
        using var store = under.Open();
        long id = store.BeginRun(Start());
        store.FinishRun(id, RunStatus.Failed, RunOutcome.Empty, "out of memory");
        var e = Assert.Throws<RunStoreException>(() => store.FinishRun(id, RunStatus.Completed, RunOutcome.Empty));
        Assert.Contains("already ended (failed)", e.Message);
        Assert.Equal("out of memory", store.GetRun(id).Summary.Error);
        Assert.Contains("is not in run store", Assert.Throws<RunStoreException>(() => store.GetRun(id + 1000)).Message);
        Assert.Throws<ArgumentException>(() => store.FinishRun(id, RunStatus.Killed, RunOutcome.Empty));
    }

    [Theory, SqliteStore, PostgresStore]
    public void Runs_completed_together_are_recorded_all_or_none(string kind)
    {
        using var under = new StoreUnderTest(kind);
        using var store = under.Open();
        RunOutcome Sparse(double sparsity) => new() { Metrics = new Dictionary<string, double> { ["sparsity"] = sparsity } };
        long dense = store.BeginRun(Start("dense", target: 0));
        store.CompleteRuns(dense, Sparse(0), [(Start("global"), Sparse(0.5)), (Start("local"), Sparse(0.8))]);
        var runs = store.ListRuns();
        Assert.Equal(3, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.Equal([("dense", 0.0), ("global", 0.5), ("local", 0.8)], runs.Select(r => (r.Method!, r.Metrics["sparsity"])).Order());
        Assert.Equal(Environment, store.GetRun(runs.Single(r => r.Method == "local").Id).Environment);

        // A failure after the first runs were written in the transaction (the run to complete has already ended)
        // leaves none of them: the store holds what it held.
        long failed = store.BeginRun(Start("dense", target: 0));
        store.FinishRun(failed, RunStatus.Failed, RunOutcome.Empty, "interrupted");
        Assert.Contains("already ended (failed)", Assert.Throws<RunStoreException>(() => store.CompleteRuns(failed, Sparse(0), [(Start("global"), Sparse(0.5))])).Message);
        Assert.Equal(4, store.ListRuns().Count);
        Assert.Equal(RunStatus.Failed, store.GetRun(failed).Summary.Status);
    }

    [Theory, SqliteStore, PostgresStore]
    public void Running_run_of_a_process_that_is_gone_is_marked_killed_and_a_live_one_is_not(string kind)
    {
        using var under = new StoreUnderTest(kind);
        using var child = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        var owner = new RunOwner(System.Environment.MachineName, child.Id, ProcessLiveness.StartMsOf(child.Id)!.Value);
        using var store = under.Open(owner);
        long id = store.BeginRun(Start());
        store.RecordStep(id, 0, new Dictionary<string, double> { ["loss"] = 1 });
        using var live = under.Open();
        long liveId = live.BeginRun(Start(seed: 2));

        Assert.Equal(0, store.MarkKilledRuns());
        child.Kill();
        child.WaitForExit();
        RunRecord run = store.GetRun(id);
        Assert.Equal(RunStatus.Killed, run.Summary.Status);
        Assert.Contains($"process {child.Id}", run.Summary.Error);
        Assert.Single(run.Steps); // what it recorded before stays
        Assert.Empty(run.Summary.Metrics);
        Assert.Equal(RunStatus.Running, store.GetRun(liveId).Summary.Status);
        live.FinishRun(liveId, RunStatus.Completed, RunOutcome.Empty);
    }

    [Theory, SqliteStore, PostgresStore]
    public void Run_on_another_machine_is_marked_killed_when_its_heartbeat_stops(string kind)
    {
        using var under = new StoreUnderTest(kind);
        var owner = new RunOwner("another-machine", 1, 0);
        using var store = under.Open(owner, staleAfter: TimeSpan.FromMilliseconds(600));
        long beating = store.BeginRun(Start(seed: 1));
        long silent = store.BeginRun(Start(seed: 2));
        using var recorder = new Timer(_ => store.Heartbeat(beating), null, 0, 100);
        Thread.Sleep(1200);
        store.MarkKilledRuns();
        Assert.Equal(RunStatus.Killed, store.GetRun(silent).Summary.Status);
        Assert.Contains("no heartbeat from process 1 on another-machine", store.GetRun(silent).Summary.Error);
        Assert.Equal(RunStatus.Running, store.GetRun(beating).Summary.Status);
        // A run wrongly given up (a stalled heartbeat) that then ends is recorded as it ended.
        store.FinishRun(silent, RunStatus.Completed, RunOutcome.Empty);
        Assert.Equal(RunStatus.Completed, store.GetRun(silent).Summary.Status);
    }

    [Theory, SqliteStore, PostgresStore]
    public void Two_runs_writing_one_file_while_both_ran_record_the_contest_in_both(string kind)
    {
        using var under = new StoreUnderTest(kind);
        using var store = under.Open();
        using var folder = new TempFolder();
        string path = folder.File("model.onnx");
        RunOutcome Wrote() => new() { Artifacts = [RunArtifact.FromFile("model", path)] };
        void Write(string content) => PruneSharp.Files.AtomicFile.Write(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(content)));

        // A and B run together; A writes and ends, then B overwrites and ends: B's write is the one on disk.
        using var a = RunRecorder.Begin(store, Start(seed: 1));
        using var b = RunRecorder.Begin(store, Start(seed: 2));
        Write("a");
        a.Complete(Wrote());
        Write("b");
        b.Complete(Wrote());
        Assert.Equal([new ContestedArtifact(path, b.RunId, b.RunId)], store.GetRun(a.RunId).Contests);
        Assert.Equal([new ContestedArtifact(path, a.RunId, b.RunId)], store.GetRun(b.RunId).Contests);

        // C and D interleave their writes before either hashes the file: both record D's bytes, so the winner is unknown.
        using var c = RunRecorder.Begin(store, Start(seed: 3));
        using var d = RunRecorder.Begin(store, Start(seed: 4));
        Write("c");
        Write("d");
        c.Complete(Wrote());
        d.Complete(Wrote());
        Assert.Equal([new ContestedArtifact(path, d.RunId, null)], store.GetRun(c.RunId).Contests);
        Assert.Equal([new ContestedArtifact(path, c.RunId, null)], store.GetRun(d.RunId).Contests);

        // E begins after every other run ended: writing the same file again is no contest.
        Thread.Sleep(5);
        using var e = RunRecorder.Begin(store, Start(seed: 5));
        Write("e");
        e.Complete(Wrote());
        Assert.Empty(store.GetRun(e.RunId).Contests);
        Assert.Single(store.GetRun(a.RunId).Contests);
        // A run that fails without writing the file contests nothing.
        using var f = RunRecorder.Begin(store, Start(seed: 6));
        Write("f");
        Thread.Sleep(5);
        using var g = RunRecorder.Begin(store, Start(seed: 7));
        f.Complete(Wrote());
        g.Fail("diverged");
        Assert.Empty(store.GetRun(g.RunId).Contests);
        Assert.DoesNotContain(store.GetRun(f.RunId).Contests, x => x.OtherRunId == g.RunId);
    }

    [Theory, SqliteStore, PostgresStore]
    public void Recorder_disposed_without_a_result_records_a_failed_run(string kind)
    {
        using var under = new StoreUnderTest(kind);
        using var store = under.Open();
        long id;
        using (var recorder = RunRecorder.Begin(store, Start(), TimeSpan.FromMilliseconds(20)))
        {
            id = recorder.RunId;
            recorder.Step(3, "loss", 0.5);
            Thread.Sleep(100);
        }
        RunRecord run = store.GetRun(id);
        Assert.Equal(RunStatus.Failed, run.Summary.Status);
        Assert.Equal("the run ended without a result", run.Summary.Error);
        Assert.True(run.Summary.HeartbeatAt > run.Summary.StartedAt);
    }

    [Theory, SqliteStore, PostgresStore]
    public void Many_writers_at_once_lose_nothing(string kind)
    {
        using var under = new StoreUnderTest(kind);
        const int Writers = 6, RunsEach = 4, Steps = 15;
        string group = Guid.NewGuid().ToString("N");
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();
        var reader = new Thread(() =>
        {
            using var store = under.Open();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    foreach (RunSummary run in store.ListRuns(new RunFilter { Group = group }))
                        if (run.Status == RunStatus.Completed) Assert.Equal(2, run.Metrics.Count); // never half-written
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                }
            }
        });
        reader.Start();
        Parallel.For(0, Writers, new ParallelOptions { MaxDegreeOfParallelism = Writers }, w =>
        {
            try
            {
                using var store = under.Open();
                for (int r = 0; r < RunsEach; r++)
                {
                    using var recorder = RunRecorder.Begin(store, Start(seed: w * 100 + r, group: group));
                    for (int s = 0; s < Steps; s++) recorder.Step(s, new Dictionary<string, double> { ["loss"] = s, ["writer"] = w });
                    recorder.Complete(new RunOutcome { Metrics = new Dictionary<string, double> { ["accuracy"] = w, ["sparsity"] = r } });
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        });
        stop.Cancel();
        reader.Join();
        Assert.Empty(errors);
        using var check = under.Open();
        var runs = check.ListRuns(new RunFilter { Group = group });
        Assert.Equal(Writers * RunsEach, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.All(runs, r => Assert.Equal(Steps * 2, check.GetRun(r.Id).Steps.Count));
        Assert.Equal(Writers * RunsEach, runs.Select(r => r.Seed).Distinct().Count());
    }
}
