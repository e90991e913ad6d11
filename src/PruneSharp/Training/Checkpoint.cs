using System.Text;
using PruneSharp.Files;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>
/// Everything needed to continue training exactly: model state (parameters and buffers), optimizer state
/// (TorchSharp's own serialisation: momentum buffers, Adam moments and step counts), position (epoch, batch, step:
/// the learning-rate schedule is a function of the step), the data seed (batch order and augmentation are functions
/// of seed, epoch and batch), libtorch's CPU generator state (dropout and other random ops), and an
/// <see cref="Extra"/> bag of named tensors (e.g. pruning masks). Written atomically in one binary file.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    static readonly byte[] Magic = "PSCKPT02"u8.ToArray();
    /// <summary>The format before the run fingerprint (read, never written).</summary>
    static readonly byte[] MagicWithoutFingerprint = "PSCKPT01"u8.ToArray();

    /// <summary>Position to resume from.</summary>
    public required TrainingPosition Position { get; init; }

    /// <summary>Seed of batch order and augmentation.</summary>
    public required long DataSeed { get; init; }

    /// <summary>The model's <c>state_dict</c> (CPU copies).</summary>
    public required IReadOnlyDictionary<string, Tensor> Model { get; init; }

    /// <summary>The optimizer type name and TorchSharp's serialised optimizer state.</summary>
    public required (string Type, byte[] State) Optimizer { get; init; }

    /// <summary>libtorch's default CPU generator state.</summary>
    public required Tensor RandomState { get; init; }

    /// <summary>Named tensors saved with the run (masks and other state of callbacks).</summary>
    public required IReadOnlyDictionary<string, Tensor> Extra { get; init; }

    /// <summary>The fingerprint of the run that wrote the checkpoint (<see cref="RunFingerprint"/>), or null (none recorded).</summary>
    public RunFingerprint? Fingerprint { get; init; }

    /// <summary>The file this checkpoint was read from (named in errors); <c>null</c> for one built in memory.</summary>
    public string? Source { get; init; }

    /// <summary>Writes the checkpoint to <paramref name="path"/> atomically (temporary file in the same folder, then rename).</summary>
    public void Write(string path)
    {
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream =>
        {
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(Position.Epoch);
                writer.Write(Position.Batch);
                writer.Write(Position.Step);
                writer.Write(DataSeed);
                WriteTensors(writer, Model);
                writer.Write(Optimizer.Type);
                writer.Write(Optimizer.State.Length);
                writer.Write(Optimizer.State);
                WriteTensor(writer, RandomState);
                WriteTensors(writer, Extra);
                writer.Write(Fingerprint?.ToJson() ?? "");
                writer.Flush();
            }
        });
    }

    /// <summary>Reads a checkpoint written by <see cref="Write"/>.</summary>
    /// <exception cref="CheckpointException">The file is missing, not a checkpoint, or truncated.</exception>
    public static Checkpoint Read(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, "checkpoint file does not exist");
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            byte[] magic = reader.ReadBytes(Magic.Length);
            bool fingerprinted = magic.AsSpan().SequenceEqual(Magic);
            if (!fingerprinted && !magic.AsSpan().SequenceEqual(MagicWithoutFingerprint))
                throw new CheckpointException(path, "not a PruneSharp checkpoint (wrong magic)");
            var position = new TrainingPosition(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64());
            long seed = reader.ReadInt64();
            var model = ReadTensors(reader);
            string type = reader.ReadString();
            int stateLength = reader.ReadInt32();
            if (stateLength < 0 || stateLength > stream.Length - stream.Position) throw new EndOfStreamException();
            byte[] state = reader.ReadBytes(stateLength);
            var random = ReadTensor(reader);
            var extra = ReadTensors(reader);
            string fingerprint = fingerprinted ? reader.ReadString() : "";
            if (stream.Position != stream.Length) throw new CheckpointException(path, $"{stream.Length - stream.Position} unexpected bytes after the end");
            return new Checkpoint { Position = position, DataSeed = seed, Model = model, Optimizer = (type, state), RandomState = random, Extra = extra, Source = path,
                Fingerprint = fingerprint.Length == 0 ? null : RunFingerprint.FromJson(fingerprint, path),
            };
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointException(path, "checkpoint is truncated", e);
        }
        catch (IOException e)
        {
            throw new CheckpointException(path, $"cannot read checkpoint: {e.Message}", e);
        }
    }

    /// <summary>Copies the saved weights and buffers into <paramref name="module"/> (names, shapes and types must match exactly).</summary>
    /// <exception cref="CheckpointException">A name is missing on either side, or a shape or type differs.</exception>
    public void LoadModel(nn.Module module)
    {
        string path = Source ?? "checkpoint";
        var target = module.state_dict();
        var missing = target.Keys.Where(k => !Model.ContainsKey(k)).ToList();
        var unexpected = Model.Keys.Where(k => !target.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new CheckpointException(path, "checkpoint does not fit the model:" +
                (missing.Count > 0 ? $" missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")};" : "") +
                (unexpected.Count > 0 ? $" unexpected {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}" : ""));
        foreach (var (name, value) in target)
        {
            var saved = Model[name];
            if (!saved.shape.SequenceEqual(value.shape) || saved.dtype != value.dtype)
                throw new CheckpointException(path, $"'{name}' is {saved.dtype} [{string.Join(",", saved.shape)}] in the checkpoint but {value.dtype} [{string.Join(",", value.shape)}] in the model");
        }
        using (no_grad())
            foreach (var (name, value) in target)
                value.copy_(Model[name]);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in Model.Values.Concat(Extra.Values).Append(RandomState)) t.Dispose();
    }

    static void WriteTensors(BinaryWriter writer, IReadOnlyDictionary<string, Tensor> tensors)
    {
        writer.Write(tensors.Count);
        foreach (var (name, value) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.Write(name);
            WriteTensor(writer, value);
        }
    }

    static Dictionary<string, Tensor> ReadTensors(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        var result = new Dictionary<string, Tensor>(count);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            result[name] = ReadTensor(reader);
        }
        return result;
    }

    static void WriteTensor(BinaryWriter writer, Tensor value)
    {
        using var cpu = value.detach().cpu().contiguous();
        writer.Write((int)cpu.dtype);
        writer.Write((int)cpu.dim());
        foreach (long size in cpu.shape) writer.Write(size);
        var bytes = cpu.bytes;
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    static Tensor ReadTensor(BinaryReader reader)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        if (!Enum.IsDefined(dtype)) throw new IOException($"unknown tensor element type {(int)dtype}");
        int rank = reader.ReadInt32();
        if (rank is < 0 or > 16) throw new IOException($"tensor rank {rank} is not plausible");
        var shape = new long[rank];
        for (int d = 0; d < rank; d++)
            if ((shape[d] = reader.ReadInt64()) is < 0 or > int.MaxValue) throw new IOException($"tensor dimension {shape[d]} is not plausible");
        int length = reader.ReadInt32();
        // Every element takes at least one byte: reject sizes the data cannot hold before allocating anything.
        if (length < 0 || shape.Aggregate(1.0, (product, size) => product * size) > length)
            throw new IOException($"tensor of shape [{string.Join(",", shape)}] cannot fit in {length} bytes");
        byte[] data = reader.ReadBytes(length);
        if (data.Length != length) throw new EndOfStreamException();
        var result = empty(shape, dtype);
        if (result.NumberOfElements * result.ElementSize != length)
            throw new IOException($"tensor of {dtype} [{string.Join(",", shape)}] cannot hold {length} bytes");
        result.bytes = data;
        return result;
    }
}
