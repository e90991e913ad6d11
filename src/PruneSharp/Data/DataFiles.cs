using System.IO.Compression;

namespace PruneSharp.Data;

/// <summary>File helpers shared by the readers: finding a file under its usual names and reading it whole (gzip or plain).</summary>
static class DataFiles
{
    /// <summary>The first of <paramref name="names"/> (each tried plain and with <c>.gz</c>) that exists in <paramref name="folder"/>.</summary>
    public static string Find(string folder, params string[] names)
    {
        if (!Directory.Exists(folder)) throw new DataNotFoundException(folder, "folder does not exist");
        foreach (string name in names)
            foreach (string candidate in new[] { name, name + ".gz" })
            {
                string path = Path.Combine(folder, candidate);
                if (File.Exists(path)) return path;
            }
        throw new DataNotFoundException(folder, $"none of {string.Join(", ", names.Select(n => $"'{n}(.gz)'"))} is in this folder");
    }

    /// <summary>All bytes of <paramref name="path"/>, decompressed if it is gzip (by content, not name).</summary>
    public static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new DataNotFoundException(path, "file does not exist");
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt or truncated gzip stream ({e.Message})", e);
        }
    }
}
