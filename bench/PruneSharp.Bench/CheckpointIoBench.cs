using System.Text;
using PruneSharp.Data;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Llm.Tokenizers;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// Hugging Face checkpoint I/O against the floor of plain file operations on the same bytes, side by side: reading
/// every tensor of a BF16 checkpoint as float32 (<see cref="HfCheckpoint.Read"/>) vs File.ReadAllBytes of its shards,
/// and writing a pruned copy with half of the tensors replaced (<see cref="CheckpointWriter"/>) vs copying the folder.
/// With a text file, also tokenizer.json encoding (<see cref="HfTokenizer"/>, the GPT-2-layout test fixture) vs
/// Microsoft.ML.Tokenizers' byte-level BPE built from the same vocabulary and merges.
/// </summary>
sealed class CheckpointIoBench : IBenchmark
{
    public string Name => "checkpoint-io";
    public string Description => "HfCheckpoint read / CheckpointWriter commit vs plain file reads and copies; tokenizer.json encode vs Microsoft.ML.Tokenizers (args: [TEXT_FILE] [--layers N])";

    public int Run(string[] args)
    {
        int layers = args.Length >= 2 && args[^2] == "--layers" ? int.Parse(args[^1]) : 8;
        string? textFile = args.Length is 1 or 3 ? args[0] : null;
        string root = Path.Combine(Path.GetTempPath(), $"prunesharp-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            string input = Path.Combine(root, "in");
            long bytes = WriteCheckpoint(input, layers);
            Console.WriteLine($"checkpoint: {layers} layers of 2 BF16 matrices [2048, 5632] in 2 shards, {bytes / 1e6:F0} MB");
            using var checkpoint = HfCheckpoint.Open(input);
            var shards = checkpoint.ShardFiles.Select(f => Path.Combine(input, f)).ToArray();

            var read = Timing.Medians(5,
                () => { foreach (string name in checkpoint.Names) checkpoint.Read(name).Dispose(); },
                () => { foreach (string shard in shards) File.ReadAllBytes(shard); });
            Console.WriteLine($"read all as float32: {read[0] * 1e3:F0} ms ({bytes / read[0] / 1e9:F2} GB/s of stored bytes); File.ReadAllBytes: {read[1] * 1e3:F0} ms; ratio {read[0] / read[1]:F2}");

            var replacements = checkpoint.Names.Where((_, i) => i % 2 == 0).ToList();
            var values = replacements.ToDictionary(n => n, n => randn(checkpoint.Shape(n)));
            int round = 0;
            var write = Timing.Medians(5,
                () =>
                {
                    using var writer = new CheckpointWriter(checkpoint, Path.Combine(root, $"out{round++}"));
                    foreach (var (name, value) in values) writer.Replace(name, value);
                    writer.Commit();
                },
                () =>
                {
                    string copy = Path.Combine(root, $"copy{round++}");
                    Directory.CreateDirectory(copy);
                    foreach (string file in Directory.EnumerateFiles(input)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
                });
            Console.WriteLine($"write with {replacements.Count} of {checkpoint.Names.Count} tensors replaced: {write[0] * 1e3:F0} ms; copying the folder: {write[1] * 1e3:F0} ms; ratio {write[0] / write[1]:F2}");
            foreach (var value in values.Values) value.Dispose();

            if (textFile != null) Tokenize(textFile, root);
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    static long WriteCheckpoint(string folder, int layers)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), "{\"model_type\": \"llama\"}");
        var map = new System.Text.Json.Nodes.JsonObject();
        long total = 0;
        for (int shard = 0; shard < 2; shard++)
        {
            string file = $"model-0000{shard + 1}-of-00002.safetensors";
            var tensors = new List<(string, Tensor, SafetensorsDType)>();
            for (int layer = shard * layers / 2; layer < (shard + 1) * layers / 2; layer++)
                foreach (string name in new[] { "up_proj", "gate_proj" })
                {
                    string tensor = $"model.layers.{layer}.mlp.{name}.weight";
                    tensors.Add((tensor, randn(5632, 2048), SafetensorsDType.BF16));
                    map[tensor] = file;
                    total += 5632L * 2048 * 2;
                }
            SafetensorsWriter.Write(Path.Combine(folder, file), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var (_, t, _) in tensors) t.Dispose();
        }
        var index = new System.Text.Json.Nodes.JsonObject { ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["total_size"] = total }, ["weight_map"] = map };
        File.WriteAllText(Path.Combine(folder, HfCheckpoint.IndexFile), index.ToJsonString());
        return total;
    }

    static void Tokenize(string textFile, string root)
    {
        string fixture = Path.Combine(RepositoryRoot(), "tests", "PruneSharp.Tests", "Llm", "Tokenizers", "Fixtures", "gpt2", "tokenizer.json");
        var ours = HfTokenizer.Load(fixture);
        // The same vocabulary and merges as vocab.json + merges.txt for Microsoft.ML.Tokenizers.
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(fixture));
        var model = json.RootElement.GetProperty("model");
        File.WriteAllText(Path.Combine(root, "vocab.json"), model.GetProperty("vocab").GetRawText());
        File.WriteAllLines(Path.Combine(root, "merges.txt"), model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!));
        var library = TextTokenizer.FromBpeFiles(Path.Combine(root, "vocab.json"), Path.Combine(root, "merges.txt"), byteLevel: true);
        string text = File.ReadAllText(textFile);
        int ourCount = 0, libraryCount = 0;
        var times = Timing.Medians(5, () => ourCount = ours.Encode(text).Length, () => libraryCount = library.Encode(text).Length);
        double megabytes = Encoding.UTF8.GetByteCount(text) / 1e6;
        Console.WriteLine($"tokenize {megabytes:F2} MB: HfTokenizer {times[0] * 1e3:F0} ms ({megabytes / times[0]:F1} MB/s, {ourCount} tokens); " +
            $"Microsoft.ML.Tokenizers BPE {times[1] * 1e3:F0} ms ({libraryCount} tokens); ratio {times[0] / times[1]:F2}");
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PruneSharp.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (PruneSharp.sln) is not above the benchmark's folder");
    }
}
