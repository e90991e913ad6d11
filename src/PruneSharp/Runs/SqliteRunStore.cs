using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace PruneSharp.Runs;

/// <summary>
/// A run store in one SQLite file (<c>runs.db</c> by default), in WAL mode so readers never block the writer, with a
/// busy timeout so concurrent writers from several processes wait for each other instead of failing. Write
/// transactions take the write lock when they begin (<c>BEGIN IMMEDIATE</c>) and are short.
/// </summary>
public sealed class SqliteRunStore : SqlRunStore
{
    /// <summary>How long a writer waits for another process's write to finish.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(60);

    readonly string _connectionString;

    /// <summary>Opens (creating if missing) the store in the SQLite file <paramref name="path"/>.</summary>
    /// <exception cref="RunStoreException">The folder does not exist, or the file is not a run store.</exception>
    public SqliteRunStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Location = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(Location)!;
        if (!Directory.Exists(folder)) throw new RunStoreException($"run store '{path}': folder '{folder}' does not exist");
        if (Directory.Exists(Location)) throw new RunStoreException($"run store '{path}' is a folder, not an SQLite file");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Location,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // No pooling: every operation opens and closes its own native connection. Microsoft.Data.Sqlite 10's pool
            // can prune a connection from a timer thread, or hand one native connection to two owners under
            // concurrent opens, and a transaction's rollback hook then fires on a freed callback, killing the process
            // (seen once in this project's tests: NullReferenceException in rollback_hook_bridge_impl). The cost is
            // opening the file once per operation.
            Pooling = false,
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString();
        using (var connection = (SqliteConnection)Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode = WAL";
            try
            {
                string mode = Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
                if (!mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
                    throw new RunStoreException($"run store '{Location}': SQLite would not switch to WAL mode (it reports '{mode}'); is the file on a network file system?");
            }
            catch (SqliteException e)
            {
                throw new RunStoreException($"run store '{Location}' cannot be opened as SQLite: {e.Message}", e);
            }
        }
        EnsureSchema();
    }

    /// <inheritdoc/>
    public override string Location { get; }

    /// <inheritdoc/>
    protected override string IdColumn => "INTEGER PRIMARY KEY AUTOINCREMENT";

    /// <inheritdoc/>
    protected override DbConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON";
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    protected override DbTransaction BeginWrite(DbConnection connection) =>
        ((SqliteConnection)connection).BeginTransaction(IsolationLevel.Serializable, deferred: false);

    /// <inheritdoc/>
    protected override DbTransaction BeginRead(DbConnection connection) =>
        ((SqliteConnection)connection).BeginTransaction(IsolationLevel.Serializable, deferred: true);

    /// <inheritdoc/>
    protected override bool IsDriverError(Exception e) => e is SqliteException;
}
