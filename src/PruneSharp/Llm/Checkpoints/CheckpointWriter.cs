using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>
/// Writes a pruned copy of a <see cref="HfCheckpoint"/> in the layout it came in: the same weight files holding the
/// same tensors under the same names, in the same order and dtypes, the index with its <c>total_size</c> brought up to
/// date, and every other file in the folder (config, generation config, tokenizer files) copied byte for byte.
/// Depth pruning changes the layout on purpose: tensors can be dropped (<see cref="Remove"/>) or given new names
/// (<see cref="Rename"/>, keeping their place in their file), and <c>config.json</c> replaced (<see cref="SetConfig"/>);
/// the index's <c>weight_map</c> follows, and a weight file left with no tensors is not written and leaves the index.
/// Weight files that the checkpoint does not use (a <c>pytorch_model.bin</c> or a second <c>.safetensors</c> beside
/// the index) are left out, so no dense copy travels with the pruned one; sub-folders are not copied either.
/// <para>
/// Replaced tensors arrive one at a time (<see cref="Replace"/>) during a long run and are spilled at once to a file
/// in their stored dtype, so they do not stay in memory; <see cref="Commit"/> then writes each weight file tensor by
/// tensor from the spills or straight from the input's memory map (peak memory about one tensor). Everything is
/// written into <c>.NAME.prunesharp-partial</c> next to the output and renamed into place only when complete; an
/// existing output is refused unless <see cref="CheckpointWriteOptions.ReplaceExisting"/>, and then renamed away,
/// the new one renamed in, and the old one deleted. A run that fails or is cancelled removes its partial folder; one
/// that is killed leaves it behind, and the next writer to the same output removes it.
/// </para>
/// </summary>
public sealed class CheckpointWriter : IDisposable
{
    const string PartialSuffix = ".prunesharp-partial";
    const string OldSuffix = ".prunesharp-old";

    readonly HfCheckpoint source;
    readonly CheckpointWriteOptions options;
    readonly string staging, spillFolder, old;
    readonly Dictionary<string, string> spills = new(StringComparer.Ordinal);
    readonly HashSet<string> removed = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> renames = new(StringComparer.Ordinal);
    JsonObject? config;
    bool finished;

    /// <summary>
    /// Prepares to write a copy of <paramref name="source"/> to <paramref name="outputFolder"/>, removing what a killed
    /// earlier run left next to it.
    /// </summary>
    /// <exception cref="IOException">The output exists and replacing was not asked for, or it is the input folder, inside it, or around it.</exception>
    public CheckpointWriter(HfCheckpoint source, string outputFolder, CheckpointWriteOptions? options = null)
    {
        this.source = source;
        this.options = options ?? new CheckpointWriteOptions();
        Output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputFolder));
        string input = Path.TrimEndingDirectorySeparator(source.Folder);
        if (Output == input || Output.StartsWith(input + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || input.StartsWith(Output + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new IOException($"{outputFolder}: the output folder must not be the input checkpoint folder, inside it, or hold it ({input})");
        string parent = Path.GetDirectoryName(Output) ?? throw new IOException($"{outputFolder}: output folder has no parent folder");
        if (!Directory.Exists(parent)) throw new DirectoryNotFoundException($"{outputFolder}: parent folder '{parent}' does not exist");
        CheckOutputFree();
        string name = Path.GetFileName(Output);
        staging = Path.Combine(parent, $".{name}{PartialSuffix}");
        old = Path.Combine(parent, $".{name}{OldSuffix}");
        spillFolder = Path.Combine(staging, "spill");
        DeleteFolder(staging);
        DeleteFolder(old);
        Directory.CreateDirectory(spillFolder);
    }

    /// <summary>The output folder (full path).</summary>
    public string Output { get; }

    /// <summary>Names of the tensors replaced so far.</summary>
    public IReadOnlyCollection<string> Replaced => spills.Keys;

    /// <summary>
    /// Sets the values of <paramref name="name"/> in the output. They are converted to the tensor's stored dtype
    /// (F16/BF16 rounding to nearest even) and spilled to disk now; the caller keeps ownership of
    /// <paramref name="values"/>. Replacing a tensor again overrides the earlier values.
    /// </summary>
    /// <exception cref="ArgumentException">No such tensor, a shape that differs from the stored one, or a stored dtype that is not floating-point.</exception>
    public void Replace(string name, torch.Tensor values)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        if (!source.Contains(name)) throw new ArgumentException($"the checkpoint has no tensor '{name}'", nameof(name));
        var info = source.Info(name);
        if (!values.shape.SequenceEqual(info.Shape))
            throw new ArgumentException($"tensor '{name}' is stored with shape [{string.Join(",", info.Shape)}] but the replacement has [{string.Join(",", values.shape)}]", nameof(values));
        if (!info.DType.IsFloatingPoint() || !values.is_floating_point())
            throw new ArgumentException($"tensor '{name}' is stored as {info.DType} and replaced by {values.dtype}; only floating-point tensors are replaced", nameof(values));
        string spill = Path.Combine(spillFolder, $"{spills.Count}.bin");
        if (spills.TryGetValue(name, out string? earlier)) spill = earlier;
        using (var encoded = TensorBytes.Encode(values, info.DType))
        using (var stream = new FileStream(spill, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            TensorBytes.Write(encoded, stream);
        spills[name] = spill;
    }

    /// <summary>Leaves tensor <paramref name="name"/> out of the output (and out of the index's <c>weight_map</c>).</summary>
    /// <exception cref="ArgumentException">No such tensor.</exception>
    public void Remove(string name)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        if (!source.Contains(name)) throw new ArgumentException($"the checkpoint has no tensor '{name}'", nameof(name));
        removed.Add(name);
    }

    /// <summary>
    /// Writes tensor <paramref name="name"/> (its values, or those given to <see cref="Replace"/>) as
    /// <paramref name="newName"/>, in the same file and place. Output names are checked for clashes at
    /// <see cref="Commit"/>, so renames may be given in any order (layer 7 to 5 before or after 5 is removed).
    /// </summary>
    /// <exception cref="ArgumentException">No such tensor, or an empty new name.</exception>
    public void Rename(string name, string newName)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        if (!source.Contains(name)) throw new ArgumentException($"the checkpoint has no tensor '{name}'", nameof(name));
        ArgumentException.ThrowIfNullOrEmpty(newName);
        renames[name] = newName;
    }

    /// <summary>Writes <paramref name="newConfig"/> (indented JSON) as <c>config.json</c> instead of copying the input's.</summary>
    public void SetConfig(JsonObject newConfig)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        config = (JsonObject)newConfig.DeepClone();
    }

    /// <summary>
    /// Writes the output folder and renames it into place. <paramref name="progress"/> hears each file's name before it
    /// is written; cancellation is checked before every tensor. On failure nothing is left at the output but what was
    /// there before.
    /// </summary>
    /// <returns>The files written and the ones left out.</returns>
    public CheckpointWriteResult Commit(IProgress<string>? progress = null, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(finished, this);
        try
        {
            CheckOutputFree();
            CheckOutputNames();
            string folder = Path.Combine(staging, "checkpoint");
            Directory.CreateDirectory(folder);
            var written = new List<string>();
            var skipped = new List<string>();
            foreach (string file in source.Files)
            {
                cancellation.ThrowIfCancellationRequested();
                string target = Path.Combine(folder, file);
                if (source.ShardFiles.Contains(file))
                {
                    if (!WriteShard(file, target, progress, cancellation)) { skipped.Add(file); continue; }
                }
                else if (config != null && file == HfCheckpoint.ConfigFile)
                {
                    progress?.Report(file);
                    File.WriteAllText(target, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
                }
                else if (source.Index != null && file == HfCheckpoint.IndexFile) WriteIndex(target, progress);
                else if (IsUnusedWeights(file)) { skipped.Add(file); continue; }
                else
                {
                    progress?.Report(file);
                    File.Copy(Path.Combine(source.Folder, file), target);
                }
                written.Add(file);
            }
            skipped.AddRange(Directory.EnumerateDirectories(source.Folder).Select(d => Path.GetFileName(d) + "/").Order(StringComparer.Ordinal));
            DeleteFolder(spillFolder);
            SwapIn(folder);
            finished = true;
            DeleteFolder(staging);
            return new CheckpointWriteResult(Output, written, skipped);
        }
        catch
        {
            finished = true;
            DeleteFolder(staging);
            throw;
        }
    }

    /// <summary>Removes the partial output of a writer that was not committed.</summary>
    public void Dispose()
    {
        if (finished) return;
        finished = true;
        DeleteFolder(staging);
    }

    static bool IsUnusedWeights(string file) =>
        file.EndsWith(".safetensors", StringComparison.Ordinal) || file.StartsWith("pytorch_model", StringComparison.Ordinal)
        || file.EndsWith(".bin", StringComparison.Ordinal) || file.EndsWith(".pth", StringComparison.Ordinal) || file.EndsWith(".pt", StringComparison.Ordinal)
        || file.EndsWith(".h5", StringComparison.Ordinal) || file.EndsWith(".msgpack", StringComparison.Ordinal) || file.EndsWith(".ckpt", StringComparison.Ordinal)
        || file == HfCheckpoint.IndexFile || file.EndsWith(".safetensors.index.json", StringComparison.Ordinal) || file.EndsWith(".bin.index.json", StringComparison.Ordinal);

    string OutputName(string name) => renames.TryGetValue(name, out string? renamed) ? renamed : name;

    void CheckOutputNames()
    {
        var clash = source.Names.Where(n => !removed.Contains(n)).GroupBy(OutputName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash != null)
            throw new InvalidOperationException($"tensors {string.Join(", ", clash.Select(n => $"'{n}'"))} would all be written as '{clash.Key}'");
        if (source.Names.All(removed.Contains)) throw new InvalidOperationException($"{source.Folder}: every tensor is removed; nothing would be written");
    }

    /// <summary>Writes one weight file; false when none of its tensors are left (nothing written).</summary>
    bool WriteShard(string file, string target, IProgress<string>? progress, CancellationToken cancellation)
    {
        var shard = source.Shard(file);
        if (shard.Names.All(removed.Contains)) return false;
        progress?.Report(file);
        if (options.Metadata == null && !shard.Names.Any(n => spills.ContainsKey(n) || removed.Contains(n) || renames.ContainsKey(n)))
        {
            File.Copy(shard.Path, target);
            return true;
        }
        var metadata = new Dictionary<string, string>(shard.Metadata, StringComparer.Ordinal);
        metadata.TryAdd("format", "pt");
        foreach (var (key, value) in options.Metadata ?? new Dictionary<string, string>()) metadata[key] = value;
        var planned = shard.Tensors.Where(t => !removed.Contains(t.Name)).Select(t => new PlannedTensor(OutputName(t.Name), t.DType, t.Shape, stream =>
        {
            if (spills.TryGetValue(t.Name, out string? spill))
            {
                using var input = new FileStream(spill, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                input.CopyTo(stream, 1 << 20);
            }
            else shard.CopyBytesTo(t.Name, stream);
        })).ToList();
        using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        SafetensorsWriter.Write(output, planned, metadata, target, cancellation);
        output.Flush(flushToDisk: true);
        return true;
    }

    void WriteIndex(string target, IProgress<string>? progress)
    {
        progress?.Report(HfCheckpoint.IndexFile);
        long total = source.Names.Where(n => !removed.Contains(n)).Sum(n => source.Info(n).ByteCount);
        var index = JsonNode.Parse(File.ReadAllBytes(source.Index!))!.AsObject();
        var metadata = index["metadata"] as JsonObject;
        if (removed.Count == 0 && renames.Count == 0
            && metadata?["total_size"] is JsonValue stated && stated.TryGetValue(out long value) && value == total)
        {
            File.Copy(source.Index!, target);
            return;
        }
        if (metadata == null) index["metadata"] = metadata = new JsonObject();
        metadata["total_size"] = total;
        if (index["weight_map"] is JsonObject map)
        {
            var rewritten = new JsonObject();
            foreach (var (name, file) in map)
                if (!removed.Contains(name)) rewritten[OutputName(name)] = file?.DeepClone();
            index["weight_map"] = rewritten;
        }
        File.WriteAllText(target, index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    void SwapIn(string folder)
    {
        if (Directory.Exists(Output))
        {
            CheckOutputFree();
            Directory.Move(Output, old);
            try
            {
                Directory.Move(folder, Output);
            }
            catch
            {
                Directory.Move(old, Output);
                throw;
            }
            DeleteFolder(old);
        }
        else Directory.Move(folder, Output);
    }

    void CheckOutputFree()
    {
        if (File.Exists(Output)) throw new IOException($"{Output}: output exists and is a file, not a checkpoint folder");
        if (Directory.Exists(Output) && !options.ReplaceExisting)
            throw new IOException($"{Output}: output folder exists; choose another or ask to replace it");
    }

    static void DeleteFolder(string folder)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }
}

/// <summary>What a <see cref="CheckpointWriter"/> wrote.</summary>
/// <param name="Folder">The output folder.</param>
/// <param name="Written">The files written (names in the folder).</param>
/// <param name="LeftOut">Files of the input not copied: unused weight files, and sub-folders (with a trailing <c>/</c>).</param>
public sealed record CheckpointWriteResult(string Folder, IReadOnlyList<string> Written, IReadOnlyList<string> LeftOut);
