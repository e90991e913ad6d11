namespace PruneSharp.Compression;

/// <summary>
/// A <c>.psz</c> file is damaged or not a <c>.psz</c> file: truncated, a checksum that does not match, a size or code
/// length that cannot be right. The message names the file and the section (<c>header</c>, <c>model</c>, or a layer's
/// weight name).
/// </summary>
public sealed class PszFormatException(string file, string section, string problem)
    : Exception($"{file}: {section}: {problem}")
{
    /// <summary>The file (as given to the reader).</summary>
    public string File { get; } = file;

    /// <summary>The damaged part: <c>header</c>, <c>model</c>, or the layer's weight name.</summary>
    public string Section { get; } = section;

    /// <summary>What is wrong, without the file and section.</summary>
    public string Problem { get; } = problem;
}
