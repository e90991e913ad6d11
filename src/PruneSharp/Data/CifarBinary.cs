namespace PruneSharp.Data;

/// <summary>
/// CIFAR-10 and CIFAR-100 in their binary versions. Each record is the label byte(s) followed by 3072 pixel bytes
/// (1024 red, 1024 green, 1024 blue, rows of 32). CIFAR-10: <c>data_batch_1.bin</c>..<c>data_batch_5.bin</c> and
/// <c>test_batch.bin</c>, one label byte. CIFAR-100: <c>train.bin</c> and <c>test.bin</c>, a coarse then a fine label byte.
/// The folder may be the one holding the files or its parent (with <c>cifar-10-batches-bin</c> / <c>cifar-100-binary</c>).
/// </summary>
public static class CifarBinary
{
    const int Side = 32, PixelBytes = 3 * Side * Side;

    /// <summary>CIFAR-10's class names, by label.</summary>
    public static readonly IReadOnlyList<string> Cifar10Classes =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Loads a CIFAR-10 split from <paramref name="folder"/> (or the <see cref="DataLocations"/> search path).</summary>
    /// <exception cref="DataNotFoundException">The folder or a batch file is missing.</exception>
    /// <exception cref="DataFormatException">A file is truncated or holds a label outside 0..9.</exception>
    public static ImageDataset LoadCifar10(DataSplit split, string? folder = null)
    {
        folder = Resolve(folder, DataLocations.Cifar10, "cifar-10-batches-bin", "test_batch.bin");
        var files = split == DataSplit.Train
            ? Enumerable.Range(1, 5).Select(i => DataFiles.Find(folder, $"data_batch_{i}.bin")).ToArray()
            : [DataFiles.Find(folder, "test_batch.bin")];
        return Read(files, labelBytes: 1, labelOffset: 0, Cifar10Classes);
    }

    /// <summary>Loads a CIFAR-100 split with its fine (100 classes) or coarse (20 super-classes) labels.</summary>
    /// <exception cref="DataNotFoundException">The folder or file is missing.</exception>
    /// <exception cref="DataFormatException">A file is truncated or holds a label out of range.</exception>
    public static ImageDataset LoadCifar100(DataSplit split, bool coarseLabels = false, string? folder = null)
    {
        folder = Resolve(folder, DataLocations.Cifar100, "cifar-100-binary", "test.bin");
        string file = DataFiles.Find(folder, split == DataSplit.Train ? "train.bin" : "test.bin");
        int classes = coarseLabels ? 20 : 100;
        var names = ReadNames(folder, coarseLabels ? "coarse_label_names.txt" : "fine_label_names.txt", classes);
        return Read([file], labelBytes: 2, labelOffset: coarseLabels ? 0 : 1, names);
    }

    static string Resolve(string? folder, string name, string archiveFolder, string probe)
    {
        if (folder is null)
        {
            var searched = DataLocations.SearchPath(name);
            foreach (string candidate in searched.SelectMany(f => new[] { f, Path.Combine(f, archiveFolder) }))
                if (File.Exists(Path.Combine(candidate, probe))) return candidate;
            throw new DataNotFoundException(name,
                $"data set not found: no '{probe}' in {string.Join(", ", searched)} (or their '{archiveFolder}' sub-folders); pass a folder or set {DataLocations.RootVariable}");
        }
        if (!Directory.Exists(folder)) throw new DataNotFoundException(folder, "folder does not exist");
        string nested = Path.Combine(folder, archiveFolder);
        return !File.Exists(Path.Combine(folder, probe)) && Directory.Exists(nested) ? nested : folder;
    }

    static IReadOnlyList<string> ReadNames(string folder, string file, int classes)
    {
        string path = Path.Combine(folder, file);
        if (File.Exists(path))
        {
            var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            if (names.Length != classes)
                throw new DataFormatException(path, $"expected {classes} class names, found {names.Length}");
            return names;
        }
        return Enumerable.Range(0, classes).Select(i => $"class{i}").ToArray();
    }

    static ImageDataset Read(string[] files, int labelBytes, int labelOffset, IReadOnlyList<string> classes)
    {
        int record = labelBytes + PixelBytes;
        var contents = files.Select(f => (Path: f, Bytes: DataFiles.ReadAll(f))).ToArray();
        foreach (var (path, bytes) in contents)
        {
            if (bytes.Length == 0) throw new DataFormatException(path, "file is empty");
            if (bytes.Length % record != 0)
                throw new DataFormatException(path, $"truncated CIFAR file: {bytes.Length} bytes is not a whole number of {record}-byte records");
        }
        int count = contents.Sum(c => c.Bytes.Length / record);
        var pixels = new byte[(long)count * PixelBytes];
        var labels = new long[count];
        int n = 0;
        foreach (var (path, bytes) in contents)
            for (int offset = 0; offset < bytes.Length; offset += record, n++)
            {
                labels[n] = bytes[offset + labelOffset];
                if (labels[n] >= classes.Count)
                    throw new DataFormatException(path, $"label {labels[n]} of record {offset / record} is outside [0, {classes.Count}): is this the right CIFAR variant?");
                Buffer.BlockCopy(bytes, offset + labelBytes, pixels, n * PixelBytes, PixelBytes);
            }
        return new ImageDataset(pixels, labels, 3, Side, Side, classes);
    }
}
