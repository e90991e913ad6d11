namespace PruneSharp.Runs;

/// <summary>
/// The tables of a run store, in SQL that SQLite and PostgreSQL both accept; only the id column's type differs.
/// Times are Unix milliseconds (UTC). A metric value of NaN is stored as NULL (SQLite cannot hold NaN).
/// docs/runs.md describes each column. Every statement creates only what is missing, so opening a store of an earlier
/// version adds the newer tables (version 2: <c>contested_artifacts</c>, <c>run_ends</c>) and then records the new version.
/// </summary>
static class RunSchema
{
    /// <summary>The version this release writes and reads; a store with a higher one is refused.</summary>
    public const int Version = 2;

    /// <summary>The statements that create the schema; <paramref name="idColumn"/> is the dialect's auto-numbered primary key.</summary>
    public static IReadOnlyList<string> Create(string idColumn) =>
    [
        "CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL)",
        $"""
        CREATE TABLE IF NOT EXISTS runs (
            id {idColumn},
            kind TEXT NOT NULL,
            name TEXT,
            group_name TEXT,
            method TEXT,
            model TEXT,
            dataset TEXT,
            seed BIGINT,
            target_sparsity DOUBLE PRECISION,
            recipe TEXT,
            command TEXT,
            status TEXT NOT NULL,
            error TEXT,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            process_started_ms BIGINT NOT NULL,
            started_ms BIGINT NOT NULL,
            heartbeat_ms BIGINT NOT NULL,
            ended_ms BIGINT)
        """,
        "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status)",
        "CREATE TABLE IF NOT EXISTS run_parameters (run_id BIGINT NOT NULL REFERENCES runs (id), name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, name))",
        "CREATE TABLE IF NOT EXISTS run_environment (run_id BIGINT NOT NULL REFERENCES runs (id), name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, name))",
        "CREATE TABLE IF NOT EXISTS step_metrics (run_id BIGINT NOT NULL REFERENCES runs (id), step BIGINT NOT NULL, name TEXT NOT NULL, value DOUBLE PRECISION, recorded_ms BIGINT NOT NULL, PRIMARY KEY (run_id, step, name))",
        "CREATE TABLE IF NOT EXISTS final_metrics (run_id BIGINT NOT NULL REFERENCES runs (id), name TEXT NOT NULL, value DOUBLE PRECISION, PRIMARY KEY (run_id, name))",
        "CREATE TABLE IF NOT EXISTS layer_sparsity (run_id BIGINT NOT NULL REFERENCES runs (id), ordinal INTEGER NOT NULL, layer TEXT NOT NULL, shape TEXT NOT NULL, parameters BIGINT NOT NULL, nonzeros BIGINT NOT NULL, PRIMARY KEY (run_id, ordinal))",
        "CREATE TABLE IF NOT EXISTS artifacts (run_id BIGINT NOT NULL REFERENCES runs (id), role TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes BIGINT NOT NULL, PRIMARY KEY (run_id, role, path))",
        "CREATE INDEX IF NOT EXISTS artifacts_by_path ON artifacts (path)",
        // Version 2: runs whose lifetimes overlapped and that wrote the same file, one row each way; winner_run_id NULL where unknown.
        // Version 2: the newest run id when a run ended, so that "began before that run ended" is decided by the store's
        // own order, not by a clock that can step (a run with a higher id began after it ended).
        "CREATE TABLE IF NOT EXISTS run_ends (run_id BIGINT PRIMARY KEY REFERENCES runs (id), last_run_id BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS contested_artifacts (run_id BIGINT NOT NULL REFERENCES runs (id), path TEXT NOT NULL, other_run_id BIGINT NOT NULL REFERENCES runs (id), winner_run_id BIGINT, PRIMARY KEY (run_id, path, other_run_id))",
    ];
}
