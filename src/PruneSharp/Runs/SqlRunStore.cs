using System.Data;
using System.Data.Common;
using System.Globalization;
using PruneSharp.Metrics;

namespace PruneSharp.Runs;

/// <summary>
/// The run store's SQL, shared by <see cref="SqliteRunStore"/> and <see cref="PostgresRunStore"/>: a dialect only
/// opens connections, names its id column and begins transactions. Every operation opens a (pooled) connection and
/// runs one short transaction, so instances are thread-safe and many processes can write one store.
/// </summary>
public abstract class SqlRunStore : IRunStore
{
    /// <summary>How long a run on another machine may go without a heartbeat before readers mark it killed.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <inheritdoc/>
    public abstract string Location { get; }

    /// <summary>The process runs begun through this instance are recorded as belonging to (tests name another one).</summary>
    internal RunOwner Owner { get; init; } = RunOwner.Current;

    /// <summary>Opens a connection ready for use.</summary>
    protected abstract DbConnection Open();

    /// <summary>The auto-numbered primary key column's type and constraint.</summary>
    protected abstract string IdColumn { get; }

    /// <summary>Begins a transaction that writes (and, for SQLite, takes the write lock at once so it never has to upgrade).</summary>
    protected abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>Begins a transaction whose reads all see one snapshot.</summary>
    protected abstract DbTransaction BeginRead(DbConnection connection);

    /// <summary>Serialises schema creation among processes inside <paramref name="transaction"/> (nothing where the write transaction already does).</summary>
    protected virtual void LockSchema(DbConnection connection, DbTransaction transaction) { }

    /// <summary>Wraps a driver error with the store's location.</summary>
    protected abstract bool IsDriverError(Exception e);

    /// <summary>Creates the tables if missing and checks the schema version; derived constructors call it.</summary>
    /// <exception cref="RunStoreException">The store was written by a newer release, or cannot be opened.</exception>
    protected void EnsureSchema() => Write((c, t) =>
    {
        LockSchema(c, t);
        foreach (string statement in RunSchema.Create(IdColumn)) Execute(c, t, statement);
        object? found = Scalar(c, t, "SELECT MAX(version) FROM schema_info");
        if (found is null or DBNull)
            Execute(c, t, "INSERT INTO schema_info (version) VALUES (@v)", ("v", RunSchema.Version));
        else if (Convert.ToInt32(found, CultureInfo.InvariantCulture) is var version && version > RunSchema.Version)
            throw new RunStoreException($"run store '{Location}' has schema version {found}; this PruneSharp reads version {RunSchema.Version} (upgrade PruneSharp)");
        else if (version < RunSchema.Version)
            Execute(c, t, "UPDATE schema_info SET version = @v", ("v", RunSchema.Version)); // the statements above added what it lacked
        return 0;
    });

    /// <inheritdoc/>
    public long BeginRun(RunStart start)
    {
        Check(start);
        RunEnvironment environment = start.Environment ?? RunEnvironment.Capture();
        long now = Now();
        return Write((c, t) => Insert(c, t, start, environment, now));
    }

    /// <inheritdoc/>
    public void CompleteRuns(long runId, RunOutcome outcome, IReadOnlyList<(RunStart Start, RunOutcome Outcome)> alongside)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(alongside);
        foreach (var (start, other) in alongside)
        {
            Check(start);
            ArgumentNullException.ThrowIfNull(other, nameof(alongside));
        }
        RunEnvironment? captured = alongside.Any(r => r.Start.Environment is null) ? RunEnvironment.Capture() : null;
        long now = Now();
        Write((c, t) =>
        {
            foreach (var (start, other) in alongside)
                Finish(c, t, Insert(c, t, start, start.Environment ?? captured!, now), RunStatus.Completed, other, null, now);
            Finish(c, t, runId, RunStatus.Completed, outcome, null, now);
            return 0;
        });
    }

    /// <summary>Refuses a start without a kind or with a target sparsity outside [0, 1].</summary>
    static void Check(RunStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (string.IsNullOrWhiteSpace(start.Kind)) throw new ArgumentException("a run needs a kind (e.g. prune)", nameof(start));
        if (start.TargetSparsity is { } s && !(s >= 0 && s <= 1)) throw new ArgumentException($"target sparsity {s} is not in [0, 1]", nameof(start));
    }

    /// <summary>Writes <paramref name="start"/> as a new running run of this process in <paramref name="environment"/>; its id.</summary>
    long Insert(DbConnection c, DbTransaction t, RunStart start, RunEnvironment environment, long now)
    {
        long id = Convert.ToInt64(Scalar(c, t, """
            INSERT INTO runs (kind, name, group_name, method, model, dataset, seed, target_sparsity, recipe, command,
                              status, host, pid, process_started_ms, started_ms, heartbeat_ms)
            VALUES (@kind, @name, @group, @method, @model, @dataset, @seed, @target, @recipe, @command,
                    @status, @host, @pid, @pstart, @now, @now)
            RETURNING id
            """,
            ("kind", start.Kind), ("name", start.Name), ("group", start.Group), ("method", start.Method), ("model", start.Model),
            ("dataset", start.Dataset), ("seed", start.Seed), ("target", start.TargetSparsity), ("recipe", start.Recipe),
            ("command", start.Command), ("status", RunStatus.Running.ToText()), ("host", Owner.Host),
            ("pid", Owner.ProcessId), ("pstart", Owner.StartedMs), ("now", now)), CultureInfo.InvariantCulture);
        InsertPairs(c, t, "run_parameters", id, start.Parameters);
        InsertPairs(c, t, "run_environment", id, environment.ToValues());
        return id;
    }

    /// <inheritdoc/>
    public void Heartbeat(long runId) => Write((c, t) =>
        Execute(c, t, "UPDATE runs SET heartbeat_ms = @now WHERE id = @id AND status = @running",
            ("now", Now()), ("id", runId), ("running", RunStatus.Running.ToText())));

    /// <inheritdoc/>
    public void RecordStep(long runId, long step, IReadOnlyDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (metrics.Count == 0) return;
        long now = Now();
        Write((c, t) =>
        {
            using DbCommand insert = Command(c, t, """
                INSERT INTO step_metrics (run_id, step, name, value, recorded_ms) VALUES (@id, @step, @name, @value, @now)
                ON CONFLICT (run_id, step, name) DO UPDATE SET value = excluded.value, recorded_ms = excluded.recorded_ms
                """, ("id", runId), ("step", step), ("name", ""), ("value", 0.0), ("now", now));
            foreach (var (name, value) in metrics)
            {
                insert.Parameters["name"].Value = name;
                insert.Parameters["value"].Value = Stored(value);
                insert.ExecuteNonQuery();
            }
            Execute(c, t, "UPDATE runs SET heartbeat_ms = @now WHERE id = @id AND status = @running",
                ("now", now), ("id", runId), ("running", RunStatus.Running.ToText()));
            return 0;
        });
    }

    /// <inheritdoc/>
    public void FinishRun(long runId, RunStatus status, RunOutcome outcome, string? error = null)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (status is not (RunStatus.Completed or RunStatus.Failed))
            throw new ArgumentException($"a run ends completed or failed, not {status.ToText()}", nameof(status));
        long now = Now();
        Write((c, t) =>
        {
            Finish(c, t, runId, status, outcome, error, now);
            return 0;
        });
    }

    /// <summary>Ends run <paramref name="runId"/> with <paramref name="status"/>, <paramref name="error"/> and <paramref name="outcome"/>.</summary>
    void Finish(DbConnection c, DbTransaction t, long runId, RunStatus status, RunOutcome outcome, string? error, long now)
    {
        object? current = Scalar(c, t, "SELECT status FROM runs WHERE id = @id", ("id", runId));
        if (current is null or DBNull) throw new RunStoreException($"run {runId} is not in run store '{Location}'");
        RunStatus was = RunStatusText.Parse((string)current);
        if (was is not (RunStatus.Running or RunStatus.Killed))
            throw new RunStoreException($"run {runId} in '{Location}' has already ended ({was.ToText()})");
        Execute(c, t, "UPDATE runs SET status = @status, error = @error, ended_ms = @now, heartbeat_ms = @now WHERE id = @id",
            ("status", status.ToText()), ("error", error), ("now", now), ("id", runId));
        foreach (string table in new[] { "final_metrics", "layer_sparsity", "artifacts" })
            Execute(c, t, $"DELETE FROM {table} WHERE run_id = @id", ("id", runId));
        Execute(c, t, "DELETE FROM contested_artifacts WHERE run_id = @id OR other_run_id = @id", ("id", runId));
        Execute(c, t, "DELETE FROM run_ends WHERE run_id = @id", ("id", runId));
        Execute(c, t, "INSERT INTO run_ends (run_id, last_run_id) VALUES (@id, (SELECT MAX(id) FROM runs))", ("id", runId));
        using (DbCommand insert = Command(c, t, "INSERT INTO final_metrics (run_id, name, value) VALUES (@id, @name, @value)",
                   ("id", runId), ("name", ""), ("value", 0.0)))
        {
            foreach (var (name, value) in outcome.Metrics)
            {
                insert.Parameters["name"].Value = name;
                insert.Parameters["value"].Value = Stored(value);
                insert.ExecuteNonQuery();
            }
        }
        using (DbCommand insert = Command(c, t, """
                   INSERT INTO layer_sparsity (run_id, ordinal, layer, shape, parameters, nonzeros)
                   VALUES (@id, @ordinal, @layer, @shape, @parameters, @nonzeros)
                   """, ("id", runId), ("ordinal", 0), ("layer", ""), ("shape", ""), ("parameters", 0L), ("nonzeros", 0L)))
        {
            for (int i = 0; i < outcome.Layers.Count; i++)
            {
                ParameterSparsity layer = outcome.Layers[i];
                insert.Parameters["ordinal"].Value = i;
                insert.Parameters["layer"].Value = layer.Name;
                insert.Parameters["shape"].Value = string.Join('x', layer.Shape);
                insert.Parameters["parameters"].Value = layer.Parameters;
                insert.Parameters["nonzeros"].Value = layer.NonZeros;
                insert.ExecuteNonQuery();
            }
        }
        using (DbCommand insert = Command(c, t, "INSERT INTO artifacts (run_id, role, path, sha256, bytes) VALUES (@id, @role, @path, @sha, @bytes)",
                   ("id", runId), ("role", ""), ("path", ""), ("sha", ""), ("bytes", 0L)))
        {
            foreach (RunArtifact artifact in outcome.Artifacts.DistinctBy(a => (a.Role, a.Path)))
            {
                insert.Parameters["role"].Value = artifact.Role;
                insert.Parameters["path"].Value = artifact.Path;
                insert.Parameters["sha"].Value = artifact.Sha256;
                insert.Parameters["bytes"].Value = artifact.Bytes;
                insert.ExecuteNonQuery();
            }
        }
        RecordContests(c, t, runId, outcome.Artifacts);
    }

    /// <summary>
    /// Finds the runs that wrote one of <paramref name="artifacts"/>' paths while run <paramref name="runId"/> ran
    /// (they ended after it began: this run already existed when they ended, by the store's own order of runs, which
    /// unlike the clock cannot step backwards; for runs ended before <c>run_ends</c> existed, by their times; having
    /// artifacts, they ended before now) and records the contest for both runs.
    /// This run hashed the file last, so the file held its content then: where the other run recorded other bytes,
    /// its write was overwritten and this run's won; the same bytes leave the winner unknown (identical outputs, or
    /// the other run hashed this one's write).
    /// </summary>
    static void RecordContests(DbConnection c, DbTransaction t, long runId, IReadOnlyList<RunArtifact> artifacts)
    {
        if (artifacts.Count == 0) return;
        long started = Convert.ToInt64(Scalar(c, t, "SELECT started_ms FROM runs WHERE id = @id", ("id", runId)), CultureInfo.InvariantCulture);
        using DbCommand select = Command(c, t, """
            SELECT a.run_id, a.sha256 FROM artifacts a JOIN runs r ON r.id = a.run_id LEFT JOIN run_ends e ON e.run_id = r.id
            WHERE a.path = @path AND a.run_id <> @id AND r.ended_ms IS NOT NULL
              AND (e.last_run_id >= @id OR (e.run_id IS NULL AND r.ended_ms >= @started))
            ORDER BY a.run_id
            """, ("path", ""), ("id", runId), ("started", started));
        using DbCommand insert = Command(c, t, """
            INSERT INTO contested_artifacts (run_id, path, other_run_id, winner_run_id) VALUES (@run, @path, @other, @winner)
            ON CONFLICT (run_id, path, other_run_id) DO NOTHING
            """, ("run", 0L), ("path", ""), ("other", 0L), ("winner", null));
        foreach (var artifact in artifacts.DistinctBy(a => a.Path))
        {
            select.Parameters["path"].Value = artifact.Path;
            var others = new List<(long Run, string Sha256)>();
            using (DbDataReader r = select.ExecuteReader())
                while (r.Read()) others.Add((r.GetInt64(0), r.GetString(1)));
            foreach (var (other, sha256) in others.DistinctBy(o => o.Run))
            {
                object winner = sha256 == artifact.Sha256 ? DBNull.Value : runId;
                foreach (var (run, against) in new[] { (runId, other), (other, runId) })
                {
                    insert.Parameters["run"].Value = run;
                    insert.Parameters["path"].Value = artifact.Path;
                    insert.Parameters["other"].Value = against;
                    insert.Parameters["winner"].Value = winner;
                    insert.ExecuteNonQuery();
                }
            }
        }
    }

    /// <inheritdoc/>
    public int MarkKilledRuns()
    {
        var running = Read((c, t) =>
        {
            using DbCommand select = Command(c, t, "SELECT id, host, pid, process_started_ms, heartbeat_ms FROM runs WHERE status = @running",
                ("running", RunStatus.Running.ToText()));
            using DbDataReader r = select.ExecuteReader();
            var rows = new List<(long Id, string Host, int Pid, long ProcessStart, long Heartbeat)>();
            while (r.Read()) rows.Add((r.GetInt64(0), r.GetString(1), Convert.ToInt32(r.GetValue(2), CultureInfo.InvariantCulture), r.GetInt64(3), r.GetInt64(4)));
            return rows;
        });
        long now = Now();
        var dead = new List<(long Id, long Heartbeat, string Why)>();
        foreach (var run in running)
        {
            if (run.Host == Environment.MachineName)
            {
                if (!ProcessLiveness.IsRunning(run.Pid, run.ProcessStart))
                    dead.Add((run.Id, run.Heartbeat, $"process {run.Pid} on {run.Host} ended without finishing the run"));
            }
            else if (now - run.Heartbeat > StaleAfter.TotalMilliseconds)
            {
                dead.Add((run.Id, run.Heartbeat, $"no heartbeat from process {run.Pid} on {run.Host} for {FormatAge(now - run.Heartbeat)}"));
            }
        }
        if (dead.Count == 0) return 0;
        return Write((c, t) => dead.Sum(d => Execute(c, t, """
            UPDATE runs SET status = @killed, error = @why, ended_ms = heartbeat_ms
            WHERE id = @id AND status = @running AND heartbeat_ms = @heartbeat
            """, ("killed", RunStatus.Killed.ToText()), ("why", d.Why), ("id", d.Id), ("running", RunStatus.Running.ToText()), ("heartbeat", d.Heartbeat))));
    }

    /// <inheritdoc/>
    public IReadOnlyList<RunSummary> ListRuns(RunFilter? filter = null)
    {
        MarkKilledRuns();
        filter ??= new RunFilter();
        if (filter.Limit is <= 0) throw new ArgumentException($"limit {filter.Limit} must be positive", nameof(filter));
        var conditions = new List<string>();
        var parameters = new List<(string, object?)>();
        if (filter.Kind != null) { conditions.Add("kind = @kind"); parameters.Add(("kind", filter.Kind)); }
        if (filter.Group != null) { conditions.Add("group_name = @group"); parameters.Add(("group", filter.Group)); }
        if (filter.Status is { } status) { conditions.Add("status = @status"); parameters.Add(("status", status.ToText())); }
        string where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        string limit = filter.Limit is { } n ? $"LIMIT {n.ToString(CultureInfo.InvariantCulture)}" : "";
        return Read((c, t) =>
        {
            var rows = new List<RunSummary>();
            using (DbCommand select = Command(c, t, $"SELECT {SummaryColumns} FROM runs {where} ORDER BY id DESC {limit}", [.. parameters]))
            using (DbDataReader r = select.ExecuteReader())
                while (r.Read()) rows.Add(ReadSummary(r, new Dictionary<string, double>()));
            if (rows.Count == 0) return rows;
            var metrics = rows.ToDictionary(s => s.Id, _ => new SortedDictionary<string, double>(StringComparer.Ordinal));
            using (DbCommand select = Command(c, t, $"SELECT run_id, name, value FROM final_metrics WHERE run_id IN (SELECT id FROM runs {where} ORDER BY id DESC {limit})", [.. parameters]))
            using (DbDataReader r = select.ExecuteReader())
                while (r.Read())
                    if (metrics.TryGetValue(r.GetInt64(0), out var m)) m[r.GetString(1)] = ReadValue(r, 2);
            return rows.Select(s => s with { Metrics = metrics[s.Id] }).ToList();
        });
    }

    /// <inheritdoc/>
    public RunRecord GetRun(long runId)
    {
        MarkKilledRuns();
        return Read((c, t) =>
        {
            var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, value) in Rows(c, t, "SELECT name, value FROM final_metrics WHERE run_id = @id", runId, r => (r.GetString(0), ReadValue(r, 1))))
                metrics[name] = value;
            RunSummary? summary = null;
            string? recipe = null, command = null;
            using (DbCommand select = Command(c, t, $"SELECT {SummaryColumns}, recipe, command FROM runs WHERE id = @id", ("id", runId)))
            using (DbDataReader r = select.ExecuteReader())
            {
                if (r.Read())
                {
                    summary = ReadSummary(r, metrics);
                    recipe = r.IsDBNull(16) ? null : r.GetString(16);
                    command = r.IsDBNull(17) ? null : r.GetString(17);
                }
            }
            if (summary is null) throw new RunStoreException($"run {runId} is not in run store '{Location}'");
            return new RunRecord(
                summary, recipe, command,
                Pairs(c, t, "run_parameters", runId),
                RunEnvironment.FromValues(Pairs(c, t, "run_environment", runId)),
                Rows(c, t, "SELECT step, name, value FROM step_metrics WHERE run_id = @id ORDER BY step, name", runId,
                    r => new StepMetric(r.GetInt64(0), r.GetString(1), ReadValue(r, 2))),
                Rows(c, t, "SELECT layer, shape, parameters, nonzeros FROM layer_sparsity WHERE run_id = @id ORDER BY ordinal", runId,
                    r => new ParameterSparsity(r.GetString(0), ParseShape(r.GetString(1)), r.GetInt64(2), r.GetInt64(3))),
                Rows(c, t, "SELECT role, path, sha256, bytes FROM artifacts WHERE run_id = @id ORDER BY role, path", runId,
                    r => new RunArtifact(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3))))
            {
                Contests = Rows(c, t, "SELECT path, other_run_id, winner_run_id FROM contested_artifacts WHERE run_id = @id ORDER BY path, other_run_id", runId,
                    r => new ContestedArtifact(r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetInt64(2))),
            };
        });
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the dialect's pooled connections.</summary>
    protected virtual void Dispose(bool disposing) { }

    const string SummaryColumns =
        "id, kind, name, group_name, method, model, dataset, seed, target_sparsity, status, error, host, pid, started_ms, heartbeat_ms, ended_ms";

    static RunSummary ReadSummary(DbDataReader r, IReadOnlyDictionary<string, double> metrics)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        return new RunSummary(
            Id: r.GetInt64(0), Kind: r.GetString(1), Name: Text(2), Group: Text(3), Method: Text(4), Model: Text(5), Dataset: Text(6),
            Seed: r.IsDBNull(7) ? null : r.GetInt64(7),
            TargetSparsity: r.IsDBNull(8) ? null : r.GetDouble(8),
            Status: RunStatusText.Parse(r.GetString(9)), Error: Text(10), Host: r.GetString(11),
            ProcessId: Convert.ToInt32(r.GetValue(12), CultureInfo.InvariantCulture),
            StartedAt: DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(13)),
            HeartbeatAt: DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(14)),
            EndedAt: r.IsDBNull(15) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(15)),
            Metrics: metrics);
    }

    static long[] ParseShape(string text) =>
        text.Length == 0 ? [] : text.Split('x').Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();

    static double ReadValue(DbDataReader r, int i) => r.IsDBNull(i) ? double.NaN : r.GetDouble(i);

    static object Stored(double value) => double.IsNaN(value) ? DBNull.Value : value;

    static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    static string FormatAge(long ms) => TimeSpan.FromMilliseconds(ms).ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture);

    static void InsertPairs(DbConnection c, DbTransaction t, string table, long id, IReadOnlyDictionary<string, string> values)
    {
        using DbCommand insert = Command(c, t, $"INSERT INTO {table} (run_id, name, value) VALUES (@id, @name, @value)", ("id", id), ("name", ""), ("value", ""));
        foreach (var (name, value) in values)
        {
            insert.Parameters["name"].Value = name;
            insert.Parameters["value"].Value = value;
            insert.ExecuteNonQuery();
        }
    }

    static SortedDictionary<string, string> Pairs(DbConnection c, DbTransaction t, string table, long id) =>
        new(Rows(c, t, $"SELECT name, value FROM {table} WHERE run_id = @id", id, r => (r.GetString(0), r.GetString(1)))
            .ToDictionary(p => p.Item1, p => p.Item2), StringComparer.Ordinal);

    static List<T> Rows<T>(DbConnection c, DbTransaction t, string sql, long id, Func<DbDataReader, T> read)
    {
        using DbCommand select = Command(c, t, sql, ("id", id));
        using DbDataReader r = select.ExecuteReader();
        var rows = new List<T>();
        while (r.Read()) rows.Add(read(r));
        return rows;
    }

    static DbCommand Command(DbConnection c, DbTransaction t, string sql, params (string Name, object? Value)[] parameters)
    {
        DbCommand command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            DbParameter p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    static int Execute(DbConnection c, DbTransaction t, string sql, params (string, object?)[] parameters)
    {
        using DbCommand command = Command(c, t, sql, parameters);
        return command.ExecuteNonQuery();
    }

    static object? Scalar(DbConnection c, DbTransaction t, string sql, params (string, object?)[] parameters)
    {
        using DbCommand command = Command(c, t, sql, parameters);
        return command.ExecuteScalar();
    }

    T Write<T>(Func<DbConnection, DbTransaction, T> work) => Run(BeginWrite, work);

    T Read<T>(Func<DbConnection, DbTransaction, T> work) => Run(BeginRead, work);

    T Run<T>(Func<DbConnection, DbTransaction> begin, Func<DbConnection, DbTransaction, T> work)
    {
        try
        {
            using DbConnection connection = Open();
            using DbTransaction transaction = begin(connection);
            T result = work(connection, transaction);
            transaction.Commit();
            return result;
        }
        catch (Exception e) when (IsDriverError(e))
        {
            throw new RunStoreException($"run store '{Location}': {e.Message}", e);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            // A row this code did not write: a process id or a layer shape that is not a number, say.
            throw new RunStoreException($"run store '{Location}' holds a value that does not fit its column ({e.Message}); was it changed by another program?", e);
        }
    }
}
