using System.Security.Cryptography;

namespace PruneSharp.Runs;

/// <summary>A file a run wrote (model, checkpoint, ONNX export, masks), with its SHA-256 so a later reader can tell whether it changed.</summary>
/// <param name="Role">What the file is (e.g. <c>model</c>, <c>onnx</c>, <c>checkpoint</c>, <c>masks</c>).</param>
/// <param name="Path">Its full path when recorded.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of its content.</param>
/// <param name="Bytes">Its size.</param>
public sealed record RunArtifact(string Role, string Path, string Sha256, long Bytes)
{
    /// <summary>Hashes the file at <paramref name="path"/> and records it under <paramref name="role"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static RunArtifact FromFile(string role, string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"artifact '{path}' ({role}) does not exist", full);
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        byte[] hash = SHA256.HashData(stream);
        return new RunArtifact(role, full, Convert.ToHexStringLower(hash), stream.Length);
    }
}
