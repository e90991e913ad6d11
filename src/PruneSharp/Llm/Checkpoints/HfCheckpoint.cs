using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// A Hugging Face checkpoint folder: <c>config.json</c> and the weights as one <c>model.safetensors</c> (preferred
/// when present, as transformers does) or as shards listed by <c>model.safetensors.index.json</c>
/// (<c>{"metadata": {"total_size": ...}, "weight_map": {tensor: shard file}}</c>). Opening validates the index and
/// every shard's header; tensors are read on demand from the memory-mapped shards. Shards must be plain file names
/// whose files (after following symbolic links) lie in the folder itself.
/// </summary>
public sealed class HfCheckpoint : ITensorSource, IDisposable
{
    /// <summary>The model's configuration file.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>The single-file weights.</summary>
    public const string SingleFile = "model.safetensors";

    /// <summary>The index of sharded weights.</summary>
    public const string IndexFile = "model.safetensors.index.json";

    readonly Dictionary<string, SafetensorsFile> shards;
    readonly Dictionary<string, string> shardOf;
    readonly string[] names;

    HfCheckpoint(string folder, JsonObject config, string? index, Dictionary<string, SafetensorsFile> shards,
        IReadOnlyList<string> shardFiles, Dictionary<string, string> shardOf)
    {
        Folder = folder;
        Config = config;
        Index = index;
        this.shards = shards;
        ShardFiles = shardFiles;
        this.shardOf = shardOf;
        names = shardFiles.SelectMany(f => shards[f].Names).ToArray();
        WeightDType = shardFiles.SelectMany(f => shards[f].Tensors).Where(t => t.DType.IsFloatingPoint())
            .GroupBy(t => t.DType).OrderByDescending(g => g.Sum(t => t.ByteCount)).Select(g => (SafetensorsDType?)g.Key).FirstOrDefault()
            ?? SafetensorsDType.F32;
    }

    /// <summary>Opens the checkpoint in <paramref name="folder"/>.</summary>
    /// <exception cref="CheckpointFormatException">The folder or a file in it is missing, garbled or inconsistent; the message names it.</exception>
    public static HfCheckpoint Open(string folder)
    {
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new CheckpointFormatException(folder, "checkpoint folder does not exist");
        var config = ReadConfig(root);
        var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        string? index = null;
        List<string> shardFiles;
        try
        {
            if (File.Exists(Path.Combine(root, SingleFile)))
            {
                shardFiles = [SingleFile];
                shards[SingleFile] = OpenShard(root, SingleFile, folder);
                foreach (string name in shards[SingleFile].Names) shardOf[name] = SingleFile;
            }
            else if (File.Exists(Path.Combine(root, IndexFile)))
            {
                index = Path.Combine(root, IndexFile);
                var weightMap = ReadWeightMap(index);
                shardFiles = weightMap.Values.Distinct(StringComparer.Ordinal).ToList();
                foreach (string file in shardFiles) shards[file] = OpenShard(root, file, index);
                foreach (var (tensor, file) in weightMap)
                {
                    if (!shards[file].Contains(tensor))
                        throw new CheckpointFormatException(index, $"weight_map puts tensor '{tensor}' in '{file}', which does not hold it");
                    shardOf[tensor] = file;
                }
                foreach (string file in shardFiles)
                    foreach (string tensor in shards[file].Names)
                        if (!weightMap.TryGetValue(tensor, out string? listed) || listed != file)
                            throw new CheckpointFormatException(Path.Combine(root, file), $"holds tensor '{tensor}', which {IndexFile} " +
                                (listed == null ? "does not list" : $"places in '{listed}'"));
            }
            else if (Directory.EnumerateFiles(root, "pytorch_model*.bin*").Any())
                throw new CheckpointFormatException(folder, "holds PyTorch pickle weights (pytorch_model*.bin) only; convert them to " +
                    "safetensors first (transformers: model.save_pretrained(folder, safe_serialization=True))");
            else
                throw new CheckpointFormatException(folder, $"has neither {SingleFile} nor {IndexFile}");
        }
        catch
        {
            foreach (var shard in shards.Values) shard.Dispose();
            throw;
        }
        return new HfCheckpoint(root, config, index, shards, shardFiles, shardOf);
    }

    /// <summary>The folder (full path).</summary>
    public string Folder { get; }

    /// <summary>The parsed <c>config.json</c>.</summary>
    public JsonObject Config { get; }

    /// <summary>The full path of <c>model.safetensors.index.json</c>, or null for a single-file checkpoint.</summary>
    public string? Index { get; }

    /// <summary>The weight files, as named in the folder, in the order the index first names them.</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    /// <summary>The floating-point dtype holding most of the weights' bytes (F32 if there are no floating-point tensors).</summary>
    public SafetensorsDType WeightDType { get; }

    /// <summary>Every file directly in the folder (names, ordinal order), weights and index included.</summary>
    public IReadOnlyList<string> Files =>
        Directory.EnumerateFiles(Folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();

    /// <inheritdoc/>
    public IReadOnlyList<string> Names => names;

    /// <inheritdoc/>
    public bool Contains(string name) => shardOf.ContainsKey(name);

    /// <summary>The weight file that holds <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public string ShardOf(string name) =>
        shardOf.TryGetValue(name, out string? file) ? file : throw new KeyNotFoundException($"{Folder}: no tensor named '{name}'");

    /// <summary>The opened weight file <paramref name="file"/> (one of <see cref="ShardFiles"/>).</summary>
    public SafetensorsFile Shard(string file) => shards[file];

    /// <summary>The header entry of <paramref name="name"/> in its shard.</summary>
    public SafetensorsTensorInfo Info(string name) => shards[ShardOf(name)].Info(name);

    /// <inheritdoc/>
    public long[] Shape(string name) => shards[ShardOf(name)].Shape(name);

    /// <inheritdoc/>
    public torch.Tensor Read(string name) => shards[ShardOf(name)].Read(name);

    /// <summary>Unmaps every shard.</summary>
    public void Dispose()
    {
        foreach (var shard in shards.Values) shard.Dispose();
    }

    static JsonObject ReadConfig(string root)
    {
        string path = Path.Combine(root, ConfigFile);
        if (!File.Exists(path)) throw new CheckpointFormatException(root, $"has no {ConfigFile}; not a Hugging Face checkpoint folder");
        try
        {
            return JsonNode.Parse(Utf8(path)) as JsonObject ?? throw new CheckpointFormatException(path, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"is not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>The file's bytes, checked to be UTF-8 (the JSON parser checks only the strings read, and throws InvalidOperationException).</summary>
    static byte[] Utf8(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return System.Text.Unicode.Utf8.IsValid(bytes) ? bytes : throw new CheckpointFormatException(path, "is not valid UTF-8");
    }

    static Dictionary<string, string> ReadWeightMap(string index)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(Utf8(index)) as JsonObject ?? throw new CheckpointFormatException(index, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(index, $"is not valid JSON ({e.Message})", e);
        }
        if (root["weight_map"] is not JsonObject map) throw new CheckpointFormatException(index, "has no weight_map object");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (tensor, file) in map)
        {
            if (file is not JsonValue value || !value.TryGetValue(out string? name))
                throw new CheckpointFormatException(index, $"weight_map.{tensor} is not a file name string");
            result[tensor] = name;
        }
        if (result.Count == 0) throw new CheckpointFormatException(index, "weight_map is empty");
        return result;
    }

    static SafetensorsFile OpenShard(string root, string file, string listedBy)
    {
        if (file.Length == 0 || file is "." or ".." || file.IndexOfAny(['/', '\\', '\0']) >= 0 || Path.IsPathRooted(file))
            throw new CheckpointFormatException(listedBy, $"weight file '{file}' is not a plain file name in the checkpoint folder");
        string path = Path.Combine(root, file);
        if (!File.Exists(path)) throw new CheckpointFormatException(listedBy, $"weight file '{file}' does not exist in {root}");
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
        if (target != null)
        {
            string folder = new DirectoryInfo(root).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? root;
            if (!string.Equals(Path.GetDirectoryName(target.FullName), Path.TrimEndingDirectorySeparator(folder), StringComparison.Ordinal))
                throw new CheckpointFormatException(path, $"is a symbolic link to '{target.FullName}', outside the checkpoint folder; copy the file into the folder");
        }
        return SafetensorsFile.Open(path);
    }
}
