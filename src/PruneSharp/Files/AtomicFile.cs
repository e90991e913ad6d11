using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace PruneSharp.Files;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one, never a partial file, and
/// leaves nothing behind. The new content goes to a hidden temporary file next to the target,
/// <c>.NAME.PID-GUID.tmp</c>, which is flushed to disk and renamed over the target. The temporary file is removed
/// when writing fails; <see cref="RemovePending"/> removes those still being written (a signal handler calls it
/// before the process ends); and a temporary file left by a process that was killed (its id no longer runs) is
/// removed by the next write to the same target. When two processes write one target, the last complete write wins.
/// </summary>
public static class AtomicFile
{
    /// <summary>Temporary files this process is writing now.</summary>
    static readonly ConcurrentDictionary<string, byte> Pending = new(StringComparer.Ordinal);

    /// <summary>
    /// Raised when another running process is writing the same target at the same time (its temporary file is
    /// present): the message names the target and the other process. The last complete write wins.
    /// </summary>
    public static event Action<string>? ConcurrentWriter;

    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file in the same folder as <paramref name="path"/>, flushes it to
    /// disk and renames it over <paramref name="path"/>. On failure the temporary file is removed and the old file kept.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The target's folder does not exist.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"cannot write '{path}': folder '{folder}' does not exist");
        RemoveStale(full);
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        Pending[temp] = 0;
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            if (OtherWriter(full) is { } other)
                ConcurrentWriter?.Invoke($"process {other} is writing '{full}' at the same time; the last complete write wins");
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
            Pending.TryRemove(temp, out _);
        }
    }

    /// <summary>
    /// Removes the temporary files this process is writing now (their targets keep their old content). Called when
    /// the process is about to end on a signal; a write still running fails.
    /// </summary>
    public static void RemovePending()
    {
        foreach (string temp in Pending.Keys)
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // Best effort: the next write to the target removes it (its process will no longer run).
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>The temporary files of <paramref name="full"/>'s writers with the id of the process that made each (null: a name without one).</summary>
    static IEnumerable<(string File, int? Process)> Temporaries(string full)
    {
        string prefix = $".{Path.GetFileName(full)}.";
        foreach (string file in Directory.EnumerateFiles(Path.GetDirectoryName(full)!, prefix + "*.tmp"))
        {
            string middle = Path.GetFileName(file)[prefix.Length..^".tmp".Length];
            int dash = middle.IndexOf('-');
            int? process = dash > 0 && int.TryParse(middle.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : null;
            // Only names of our making: a GUID (older releases) or PID-GUID.
            string guid = dash > 0 ? middle[(dash + 1)..] : middle;
            if (guid.Length == 32 && Guid.TryParseExact(guid, "N", out _)) yield return (file, process);
        }
    }

    /// <summary>Removes temporary files of <paramref name="full"/> whose writer no longer runs.</summary>
    static void RemoveStale(string full)
    {
        foreach (var (file, process) in Temporaries(full))
        {
            bool ours = process == Environment.ProcessId;
            if (ours ? Pending.ContainsKey(file) : process is { } id && Running(id)) continue;
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    static int? OtherWriter(string full) =>
        Temporaries(full).Select(t => t.Process).FirstOrDefault(p => p is { } id && id != Environment.ProcessId && Running(id));

    static bool Running(int id)
    {
        try
        {
            using var process = Process.GetProcessById(id);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
