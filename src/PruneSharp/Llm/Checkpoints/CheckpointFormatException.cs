namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// A checkpoint file or folder is missing, malformed or inconsistent: a safetensors header that fails validation, a
/// sharded index that names a missing tensor or a file outside the folder. <see cref="Path"/> names the file or folder
/// and the message names the tensor or field at fault.
/// </summary>
public sealed class CheckpointFormatException(string path, string problem, Exception? inner = null) : Exception($"{path}: {problem}", inner)
{
    /// <summary>The file or folder at fault.</summary>
    public string Path { get; } = path;
}
