using PruneSharp.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Runs;

/// <summary>What only the SQLite store does: WAL mode, refusing files that are not stores.</summary>
public sealed class SqliteRunStoreTests : IDisposable
{
    readonly TempFolder _folder = new();

    string Path => _folder.File("runs.db");

    SqliteRunStore Open() => new(Path);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Store_file_is_in_wal_mode()
    {
        using (Open()) { }
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public void A_file_that_is_not_a_store_is_refused_with_its_path()
    {
        File.WriteAllText(Path, "this is not a database, just text long enough to be read as a header by SQLite...........");
        var e = Assert.Throws<RunStoreException>(() => new SqliteRunStore(Path));
        Assert.Contains(Path, e.Message);
        var missing = Assert.Throws<RunStoreException>(() => new SqliteRunStore(_folder.File("no", "such", "runs.db")));
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public void A_version_1_store_is_upgraded_on_opening_and_keeps_its_runs()
    {
        long id;
        using (var store = Open()) id = store.BeginRun(RunStoreTests.Start());
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE contested_artifacts; UPDATE schema_info SET version = 1";
            command.ExecuteNonQuery();
        }
        using (var store = Open())
        {
            store.FinishRun(id, RunStatus.Completed, new RunOutcome { Artifacts = [new RunArtifact("model", "/tmp/m.onnx", new string('a', 64), 1)] });
            Assert.Empty(store.GetRun(id).Contests);
        }
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT version FROM schema_info";
            Assert.Equal(2L, command.ExecuteScalar());
        }
    }

    [Fact]
    public void A_store_from_a_newer_release_is_refused()
    {
        using (Open()) { }
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE schema_info SET version = 99";
            command.ExecuteNonQuery();
        }
        Assert.Contains("schema version 99", Assert.Throws<RunStoreException>(() => Open()).Message);
    }
}
