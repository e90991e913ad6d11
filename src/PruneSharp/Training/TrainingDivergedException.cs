namespace PruneSharp.Training;

/// <summary>The training loss became NaN or infinite; the message names the epoch, batch, step and learning rate.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
