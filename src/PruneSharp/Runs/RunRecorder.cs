namespace PruneSharp.Runs;

/// <summary>
/// Records one run into a store while it goes: begins it, beats its heartbeat in the background, records step
/// metrics, and ends it once with <see cref="Complete(RunOutcome)"/> or <see cref="Fail"/>. Disposing a recorder that was not
/// ended records the run as failed ("ended without a result"); a process killed outright leaves the run running
/// with a heartbeat that stops, and readers then mark it killed.
/// </summary>
public sealed class RunRecorder : IDisposable
{
    /// <summary>How often the heartbeat is written by default.</summary>
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(15);

    readonly bool _ownsStore;
    readonly Timer _heartbeat;
    readonly Lock _gate = new();
    bool _ended;
    bool _disposed;

    RunRecorder(IRunStore store, bool ownsStore, long runId, TimeSpan heartbeat)
    {
        Store = store;
        _ownsStore = ownsStore;
        RunId = runId;
        _heartbeat = new Timer(_ => Beat(), null, heartbeat, heartbeat);
    }

    /// <summary>The store the run is recorded in.</summary>
    public IRunStore Store { get; }

    /// <summary>The run's id in <see cref="Store"/>.</summary>
    public long RunId { get; }

    /// <summary>The last error writing the heartbeat (the run goes on; the store may mark it killed if this persists), or null.</summary>
    public RunStoreException? HeartbeatError { get; private set; }

    /// <summary>Begins a run in <paramref name="store"/> (which the caller keeps owning).</summary>
    public static RunRecorder Begin(IRunStore store, RunStart start, TimeSpan? heartbeat = null) => Begin(store, false, start, heartbeat);

    /// <summary>Opens the store at <paramref name="location"/> (see <see cref="RunStores.Open"/>) and begins a run there; disposing the recorder closes the store.</summary>
    public static RunRecorder Begin(string location, RunStart start, TimeSpan? heartbeat = null)
    {
        IRunStore store = RunStores.Open(location);
        try
        {
            return Begin(store, true, start, heartbeat);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Records metrics of step <paramref name="step"/>.</summary>
    public void Step(long step, IReadOnlyDictionary<string, double> metrics)
    {
        ThrowIfEnded();
        Store.RecordStep(RunId, step, metrics);
    }

    /// <summary>Records one metric of step <paramref name="step"/>.</summary>
    public void Step(long step, string name, double value) => Step(step, new Dictionary<string, double> { [name] = value });

    /// <summary>Ends the run as completed with <paramref name="outcome"/> (one transaction).</summary>
    public void Complete(RunOutcome outcome) => End(() => Store.FinishRun(RunId, RunStatus.Completed, outcome));

    /// <summary>
    /// Ends the run as completed with <paramref name="outcome"/> and records <paramref name="alongside"/> as completed
    /// runs in the same transaction (<see cref="IRunStore.CompleteRuns"/>).
    /// </summary>
    public void Complete(RunOutcome outcome, IReadOnlyList<(RunStart Start, RunOutcome Outcome)> alongside) =>
        End(() => Store.CompleteRuns(RunId, outcome, alongside));

    /// <summary>Ends the run as failed with <paramref name="error"/> and what was measured before (if anything).</summary>
    public void Fail(string error, RunOutcome? outcome = null) => End(() => Store.FinishRun(RunId, RunStatus.Failed, outcome ?? RunOutcome.Empty, error));

    /// <summary>Stops the heartbeat; records the run as failed if it was not ended; closes the store if the recorder opened it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        using (var stopped = new ManualResetEvent(false))
            if (_heartbeat.Dispose(stopped)) stopped.WaitOne();
        try
        {
            bool ended;
            lock (_gate) ended = _ended;
            if (!ended) Fail("the run ended without a result");
        }
        finally
        {
            if (_ownsStore) Store.Dispose();
        }
    }

    static RunRecorder Begin(IRunStore store, bool ownsStore, RunStart start, TimeSpan? heartbeat)
    {
        ArgumentNullException.ThrowIfNull(store);
        TimeSpan interval = heartbeat ?? DefaultHeartbeat;
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(heartbeat), "the heartbeat interval must be positive");
        return new RunRecorder(store, ownsStore, store.BeginRun(start), interval);
    }

    void End(Action finish)
    {
        lock (_gate)
        {
            if (_ended) throw new InvalidOperationException($"run {RunId} has already been ended");
            finish();
            _ended = true;
        }
        _heartbeat.Change(Timeout.Infinite, Timeout.Infinite);
    }

    void ThrowIfEnded()
    {
        lock (_gate)
            if (_ended) throw new InvalidOperationException($"run {RunId} has already been ended");
    }

    void Beat()
    {
        lock (_gate)
        {
            if (_ended) return;
            try
            {
                Store.Heartbeat(RunId);
                HeartbeatError = null;
            }
            catch (RunStoreException e)
            {
                HeartbeatError = e;
            }
        }
    }
}
