namespace PruneSharp.Runs;

/// <summary>Where a recorded run stands. Stored as the lower-case name (<c>running</c>, <c>completed</c>, …).</summary>
public enum RunStatus
{
    /// <summary>Started and, as far as the store knows, still going: its process beats a heartbeat into the row.</summary>
    Running,

    /// <summary>Ended normally; its final metrics, layers and artifacts were written in one transaction.</summary>
    Completed,

    /// <summary>Ended with an error (the row's error says which) or was cancelled.</summary>
    Failed,

    /// <summary>Its process went away without ending the run (killed, crashed, machine lost); marked by a reader.</summary>
    Killed,
}

/// <summary>Conversions between <see cref="RunStatus"/> and its stored text.</summary>
public static class RunStatusText
{
    /// <summary>The stored text of <paramref name="status"/>.</summary>
    public static string ToText(this RunStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>Parses stored text.</summary>
    /// <exception cref="RunStoreException">Not a status name.</exception>
    public static RunStatus Parse(string text) =>
        Enum.TryParse(text, ignoreCase: true, out RunStatus status) && !int.TryParse(text, out _)
            ? status
            : throw new RunStoreException($"unknown run status '{text}' (expected running, completed, failed or killed)");
}
