namespace PruneSharp.Pruning;

/// <summary>
/// A pruning request does not fit the model: an unknown parameter name, a weight shape that a granularity cannot
/// group, a mask file that belongs to another model. The message names the parameter and the problem.
/// </summary>
public sealed class PruningException(string message, Exception? inner = null) : Exception(message, inner);
