namespace PruneSharp.Data;

/// <summary>A data file or folder is missing, malformed or inconsistent; <see cref="Path"/> names it.</summary>
public class DataException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>; the message is prefixed with the path.</summary>
    public DataException(string path, string problem, Exception? inner = null) : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file or folder at fault.</summary>
    public string Path { get; }
}

/// <summary>A data file or folder does not exist (or a data set was found in none of the searched folders).</summary>
public sealed class DataNotFoundException(string path, string problem) : DataException(path, problem);

/// <summary>A data file exists but its content is wrong: bad magic number, truncated, counts that disagree, labels out of range.</summary>
public sealed class DataFormatException(string path, string problem, Exception? inner = null) : DataException(path, problem, inner);
