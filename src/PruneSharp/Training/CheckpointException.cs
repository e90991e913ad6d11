namespace PruneSharp.Training;

/// <summary>A checkpoint file is missing, malformed, or does not fit the model/optimizer it is loaded into.</summary>
public sealed class CheckpointException(string path, string problem, Exception? inner = null) : Exception($"{path}: {problem}", inner)
{
    /// <summary>The checkpoint file.</summary>
    public string Path { get; } = path;
}
