namespace PruneSharp.Onnx;

/// <summary>Writes a file so that readers see either the old content or the complete new one, never a partial file.</summary>
static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file in the same folder as <paramref name="path"/>, flushes it to
    /// disk and renames it over <paramref name="path"/>. On failure the temporary file is removed and the old file kept.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"cannot write '{path}': folder '{folder}' does not exist");
        string temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
