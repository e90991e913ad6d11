namespace PruneSharp.Files;

/// <summary>Stored run state (an experiment folder, a checkpoint) cannot be resumed: it was made under other settings, or its record is unreadable.</summary>
public sealed class RunStateException(string message) : Exception(message);
