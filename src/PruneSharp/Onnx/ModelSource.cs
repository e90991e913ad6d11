using System.Globalization;
using PruneSharp.Onnx.Proto;

namespace PruneSharp.Onnx;

/// <summary>
/// Where a model being read comes from: its name for errors, and the folder whose files hold its external data
/// (ONNX external data: the keys <c>location</c>, <c>offset</c> and <c>length</c>). Only files inside the model's
/// folder are read: absolute locations, locations that climb out with <c>..</c> or through a symbolic link, and
/// ranges past a file's end are rejected.
/// </summary>
/// <param name="source">The model's file name or another label, as errors name it.</param>
/// <param name="baseDirectory">The model's folder, or null if external data cannot be read.</param>
sealed class ModelSource(string source, string? baseDirectory) : IDisposable
{
    readonly Dictionary<string, FileStream> _open = new(StringComparer.Ordinal);
    readonly string? _root = baseDirectory == null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseDirectory));

    /// <summary>The model being read, as errors name it.</summary>
    public string Source { get; } = source;

    /// <summary>An error about the model being read.</summary>
    public OnnxFormatException Error(string message, Exception? inner = null) => new($"{Source}: {message}", inner);

    /// <summary>
    /// Checks that <paramref name="proto"/>'s external data names <paramref name="byteCount"/> bytes inside a file
    /// of the model's folder, and returns a reader that copies them. Nothing is allocated before the check.
    /// </summary>
    public Action<Span<byte>> Locate(ITensorFields proto, string what, long byteCount)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var entry in proto.ExternalData)
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseSize(entry.Value, "offset", what); break;
                case "length": length = ParseSize(entry.Value, "length", what); break;
            }
        if (string.IsNullOrEmpty(location))
            throw Error($"{what} is stored externally but external_data has no 'location'");
        if (length is { } declared && declared != byteCount)
            throw Error($"{what}: external_data length {declared} does not match the {byteCount} bytes its dims and type need");

        FileStream stream = Open(location, what);
        if (offset > stream.Length || byteCount > stream.Length - offset)
            throw Error($"{what}: external data '{location}' has {stream.Length} bytes, too few for {byteCount} bytes at offset {offset}");
        return destination =>
        {
            stream.Position = offset;
            stream.ReadExactly(destination);
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var stream in _open.Values) stream.Dispose();
        _open.Clear();
    }

    long ParseSize(string text, string key, string what) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw Error($"{what}: external_data '{key}' is '{text}', not a non-negative integer");

    FileStream Open(string location, string what)
    {
        if (_open.TryGetValue(location, out var cached)) return cached;
        if (_root == null)
            throw Error($"{what} is stored in external file '{location}', but the model was not read from a folder (read it from its file path)");
        string path = Resolve(location, what);
        if (!File.Exists(path))
            throw Error($"{what}: external data file '{location}' does not exist next to the model");
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
            _open[location] = stream;
            return stream;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"{what}: external data file '{location}' cannot be opened: {e.Message}", e);
        }
    }

    /// <summary>The full path of <paramref name="location"/>, proven to lie inside the model's folder.</summary>
    string Resolve(string location, string what)
    {
        string root = _root!;
        if (Path.IsPathRooted(location) || location.Contains('\\') || location.Contains('\0'))
            throw Error($"{what}: external data location '{location}' must be a relative path inside the model's folder");
        string current = root;
        foreach (string part in location.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
                throw Error($"{what}: external data location '{location}' climbs out of the model's folder");
            if (part == ".") continue;
            current = Path.Combine(current, part);
            var entry = new FileInfo(current);
            if (entry.LinkTarget != null)
            {
                current = entry.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? current;
                if (!Inside(current, root))
                    throw Error($"{what}: external data location '{location}' leads through a symbolic link out of the model's folder");
            }
        }
        if (!Inside(current, root) || current.Length == root.Length)
            throw Error($"{what}: external data location '{location}' does not name a file inside the model's folder");
        return current;
    }

    static bool Inside(string path, string root) =>
        path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || path == root;
}
