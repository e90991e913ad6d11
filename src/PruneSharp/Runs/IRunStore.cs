namespace PruneSharp.Runs;

/// <summary>
/// Where runs are recorded: a local SQLite file (<see cref="SqliteRunStore"/>) or a PostgreSQL database
/// (<see cref="PostgresRunStore"/>); <see cref="RunStores.Open"/> picks by location. Several processes may write one
/// store at once. A run's row is written <see cref="RunStatus.Running"/> with its host, process id and a heartbeat;
/// its final status, metrics, layers and artifacts go in one transaction, so a reader sees a run either running or
/// whole. Readers mark running runs whose process is gone as <see cref="RunStatus.Killed"/> first. Instances are
/// safe to use from several threads. Writers usually go through <see cref="RunRecorder"/>.
/// </summary>
public interface IRunStore : IDisposable
{
    /// <summary>The store's location for messages (a file path, or a PostgreSQL address without its password).</summary>
    string Location { get; }

    /// <summary>Writes a new run in state <see cref="RunStatus.Running"/> owned by this process and returns its id.</summary>
    long BeginRun(RunStart start);

    /// <summary>Records that the run's process is alive (<see cref="RunRecorder"/> calls it periodically).</summary>
    void Heartbeat(long runId);

    /// <summary>Records metrics of one step (a value already stored for the same step and name is replaced).</summary>
    void RecordStep(long runId, long step, IReadOnlyDictionary<string, double> metrics);

    /// <summary>
    /// Ends the run: its status (<see cref="RunStatus.Completed"/> or <see cref="RunStatus.Failed"/>), the error for a
    /// failed run, and the outcome, all in one transaction. A run a reader had marked killed (a stalled heartbeat from
    /// another machine) is ended all the same.
    /// </summary>
    /// <exception cref="RunStoreException">No such run, or it has already ended.</exception>
    void FinishRun(long runId, RunStatus status, RunOutcome outcome, string? error = null);

    /// <summary>
    /// Ends run <paramref name="runId"/> as <see cref="RunStatus.Completed"/> with <paramref name="outcome"/> and records
    /// each of <paramref name="alongside"/> as a completed run of this process with its outcome, all in one
    /// transaction: a reader sees every one of them or none (a comparison's rows, which a sweep takes as done together).
    /// </summary>
    /// <exception cref="RunStoreException">No such run, or it has already ended; nothing is recorded.</exception>
    void CompleteRuns(long runId, RunOutcome outcome, IReadOnlyList<(RunStart Start, RunOutcome Outcome)> alongside);

    /// <summary>Marks running runs whose process no longer runs (same host) or whose heartbeat stopped (other hosts) as killed; returns how many.</summary>
    int MarkKilledRuns();

    /// <summary>The runs <paramref name="filter"/> matches, newest first (after <see cref="MarkKilledRuns"/>).</summary>
    IReadOnlyList<RunSummary> ListRuns(RunFilter? filter = null);

    /// <summary>Everything about one run (after <see cref="MarkKilledRuns"/>).</summary>
    /// <exception cref="RunStoreException">No run has that id.</exception>
    RunRecord GetRun(long runId);
}
