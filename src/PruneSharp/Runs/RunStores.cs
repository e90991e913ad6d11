namespace PruneSharp.Runs;

/// <summary>Opens the run store a location names: a PostgreSQL address (<c>postgres://…</c>) or an SQLite file path.</summary>
public static class RunStores
{
    /// <summary>The SQLite file used when no location is given: <c>runs.db</c> in the current folder.</summary>
    public const string DefaultPath = "runs.db";

    /// <summary>Opens (creating tables if missing) the store at <paramref name="location"/>.</summary>
    /// <exception cref="RunStoreException">It cannot be opened; the message names the location and why.</exception>
    public static IRunStore Open(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        return PostgresAddress.IsAddress(location) ? new PostgresRunStore(location) : new SqliteRunStore(location);
    }

    /// <summary>Opens the store at <paramref name="location"/> to read it: an SQLite file must exist already.</summary>
    /// <exception cref="RunStoreException">There is no such file, or it cannot be opened.</exception>
    public static IRunStore OpenExisting(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (!PostgresAddress.IsAddress(location) && !File.Exists(location))
            throw new RunStoreException($"no run store at '{Path.GetFullPath(location)}' (runs are recorded there by prune, train, lth and llm prune; --store names another)");
        return Open(location);
    }
}
