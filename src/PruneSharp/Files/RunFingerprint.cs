using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;

namespace PruneSharp.Files;

/// <summary>
/// Everything that determines the results kept in a run-state folder or file (model identity and weights' hash,
/// data, every option), as named text values. A run resumes stored state only under an equal fingerprint;
/// <see cref="Differences"/> names the keys that differ, so the refusal says what changed.
/// </summary>
public sealed class RunFingerprint
{
    readonly SortedDictionary<string, string> _values;

    /// <summary>Creates a fingerprint of <paramref name="values"/>.</summary>
    public RunFingerprint(IEnumerable<KeyValuePair<string, string>> values) =>
        _values = new SortedDictionary<string, string>(values.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);

    /// <summary>The values by key.</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>This fingerprint with <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public RunFingerprint With(string key, string value) => new(_values.Append(new(key, value)).GroupBy(p => p.Key).Select(g => g.Last()));

    /// <summary>The keys whose values differ between the two fingerprints (present in one only included), in order.</summary>
    public IReadOnlyList<string> Differences(RunFingerprint other) =>
        _values.Keys.Union(other._values.Keys).Order(StringComparer.Ordinal)
            .Where(k => _values.GetValueOrDefault(k) != other._values.GetValueOrDefault(k)).ToList();

    /// <summary>The fingerprint as JSON (keys sorted).</summary>
    public string ToJson() => JsonSerializer.Serialize(_values, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Reads a fingerprint written by <see cref="ToJson"/>.</summary>
    /// <exception cref="RunStateException">The text is not a fingerprint; the message names <paramref name="source"/>.</exception>
    public static RunFingerprint FromJson(string json, string source)
    {
        try
        {
            return new RunFingerprint(JsonSerializer.Deserialize<Dictionary<string, string>>(json)
                ?? throw new RunStateException($"{source}: the run fingerprint is empty"));
        }
        catch (JsonException e)
        {
            throw new RunStateException($"{source}: the run fingerprint is not a JSON object of strings ({e.Message})");
        }
    }

    /// <summary>
    /// Records this fingerprint at <paramref name="path"/> if none is there, or checks that the one there is equal.
    /// </summary>
    /// <exception cref="RunStateException">The recorded fingerprint differs; the message names the differing keys.</exception>
    public void RecordOrCheck(string path)
    {
        if (File.Exists(path)) Check(FromJson(File.ReadAllText(path), path), Path.GetDirectoryName(Path.GetFullPath(path))!);
        else AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, _values, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Checks that the state in <paramref name="location"/>, made under <paramref name="recorded"/>, may be resumed under this fingerprint.</summary>
    /// <exception cref="RunStateException">They differ; the message names the differing keys and both values.</exception>
    public void Check(RunFingerprint recorded, string location)
    {
        var keys = Differences(recorded);
        if (keys.Count == 0) return;
        string changes = string.Join("; ", keys.Select(k => $"{k}: was {recorded._values.GetValueOrDefault(k) ?? "(absent)"}, now {_values.GetValueOrDefault(k) ?? "(absent)"}"));
        throw new RunStateException($"{location} holds the state of a run with other settings ({changes}); use the same settings, another location, or --restart to start afresh");
    }

    /// <summary>A hash of a module's state (parameter and buffer names, shapes, types and values): the model's identity.</summary>
    public static string Hash(torch.nn.Module module)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in module.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name}:{tensor.dtype}:{string.Join('x', tensor.shape)};"));
            using var cpu = tensor.detach().cpu().contiguous();
            hash.AppendData(cpu.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>
    /// A hash of a data set: its count and the inputs and targets of up to 256 evenly spaced examples (served without
    /// augmentation), which tells one data set (or split, or normalisation) from another without reading it all.
    /// </summary>
    public static string Hash(Data.IDataset data)
    {
        int count = data.Count, samples = Math.Min(count, 256);
        var indices = Enumerable.Range(0, samples).Select(i => (int)((long)i * count / Math.Max(1, samples))).ToArray();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(count));
        if (samples > 0)
        {
            using var scope = torch.NewDisposeScope();
            var batch = data.GetBatch(indices);
            foreach (var tensor in new[] { batch.Inputs, batch.Targets })
                hash.AppendData(tensor.detach().cpu().contiguous().bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>A hash of a file's bytes.</summary>
    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }
}
