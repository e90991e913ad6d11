namespace PruneSharp.Runs;

/// <summary>One run as <c>runs list</c> shows it: what it was, where it stands, and its final metrics.</summary>
/// <param name="Id">The store's id of the run.</param>
/// <param name="Kind">See <see cref="RunStart.Kind"/>.</param>
/// <param name="Name">See <see cref="RunStart.Name"/>.</param>
/// <param name="Group">See <see cref="RunStart.Group"/>.</param>
/// <param name="Method">See <see cref="RunStart.Method"/>.</param>
/// <param name="Model">See <see cref="RunStart.Model"/>.</param>
/// <param name="Dataset">See <see cref="RunStart.Dataset"/>.</param>
/// <param name="Seed">See <see cref="RunStart.Seed"/>.</param>
/// <param name="TargetSparsity">See <see cref="RunStart.TargetSparsity"/>.</param>
/// <param name="Status">Where the run stands.</param>
/// <param name="Error">Why it failed or was marked killed; null otherwise.</param>
/// <param name="Host">The machine its process ran on.</param>
/// <param name="ProcessId">Its process id there.</param>
/// <param name="StartedAt">When it began.</param>
/// <param name="HeartbeatAt">Its process's last sign of life.</param>
/// <param name="EndedAt">When it ended (for a killed run: its last heartbeat); null while running.</param>
/// <param name="Metrics">Final metrics by name (empty unless completed, or failed after measuring).</param>
public sealed record RunSummary(
    long Id,
    string Kind,
    string? Name,
    string? Group,
    string? Method,
    string? Model,
    string? Dataset,
    long? Seed,
    double? TargetSparsity,
    RunStatus Status,
    string? Error,
    string Host,
    int ProcessId,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    DateTimeOffset? EndedAt,
    IReadOnlyDictionary<string, double> Metrics);

/// <summary>One per-step metric of a run.</summary>
/// <param name="Step">The step (training step, epoch, LTH round, …) as the recorder numbered it.</param>
/// <param name="Name">The metric's name.</param>
/// <param name="Value">Its value.</param>
public sealed record StepMetric(long Step, string Name, double Value);

/// <summary>Everything stored about one run.</summary>
/// <param name="Summary">The run's row and final metrics.</param>
/// <param name="Recipe">The recipe's text, if it came from one.</param>
/// <param name="Command">The command line that started it.</param>
/// <param name="Parameters">Its options by name.</param>
/// <param name="Environment">What it ran on.</param>
/// <param name="Steps">Per-step metrics in step order, then name order.</param>
/// <param name="Layers">Per-layer sparsity of the final model, in recorded order.</param>
/// <param name="Artifacts">Files it wrote.</param>
public sealed record RunRecord(
    RunSummary Summary,
    string? Recipe,
    string? Command,
    IReadOnlyDictionary<string, string> Parameters,
    RunEnvironment Environment,
    IReadOnlyList<StepMetric> Steps,
    IReadOnlyList<Metrics.ParameterSparsity> Layers,
    IReadOnlyList<RunArtifact> Artifacts)
{
    /// <summary>The files it wrote that another run wrote while it ran (see <see cref="ContestedArtifact"/>).</summary>
    public IReadOnlyList<ContestedArtifact> Contests { get; init; } = [];
}

/// <summary>
/// A file two runs wrote while both ran (one began before the other ended). Writes are atomic, so the file holds one
/// run's complete output: the last one renamed into place. The store records the contest in both runs when the
/// second of them ends.
/// </summary>
/// <param name="Path">The file, as both runs recorded it.</param>
/// <param name="OtherRunId">The other run.</param>
/// <param name="WinnerRunId">The run whose write the file held when the contest was recorded: the run that recorded
/// the file last, where the two runs recorded different content; null where they recorded the same bytes.</param>
public sealed record ContestedArtifact(string Path, long OtherRunId, long? WinnerRunId);

/// <summary>Which runs to list; null fields match every run.</summary>
public sealed record RunFilter
{
    /// <summary>Only runs of this kind.</summary>
    public string? Kind { get; init; }

    /// <summary>Only runs of this group.</summary>
    public string? Group { get; init; }

    /// <summary>Only runs in this state.</summary>
    public RunStatus? Status { get; init; }

    /// <summary>At most this many, newest first.</summary>
    public int? Limit { get; init; }
}
