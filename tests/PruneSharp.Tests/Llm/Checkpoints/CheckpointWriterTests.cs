using System.Text.Json.Nodes;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Checkpoints;

public class CheckpointWriterTests
{
    static string[] FilesIn(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nothing_replaced_gives_byte_identical_files(bool sharded)
    {
        using var dir = new TempFolder();
        string input = dir.File("in"), output = dir.File("out");
        TestCheckpoints.Write(input, sharded);
        File.WriteAllBytes(Path.Combine(input, "pytorch_model.bin"), [0x80, 2]);
        using var checkpoint = HfCheckpoint.Open(input);
        using var writer = new CheckpointWriter(checkpoint, output);
        var result = writer.Commit();
        Assert.Equal(["pytorch_model.bin"], result.LeftOut);
        Assert.Equal(FilesIn(input).Where(f => f != "pytorch_model.bin"), FilesIn(output));
        foreach (string file in FilesIn(output))
            Assert.True(File.ReadAllBytes(Path.Combine(input, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(output, file))), file);
        Assert.Equal(["in", "out"], FilesIn(dir.Path));
    }

    [Fact]
    public void Replaced_tensor_reads_back_in_its_dtype_and_the_rest_is_unchanged()
    {
        using var dir = new TempFolder();
        string input = dir.File("in"), output = dir.File("out");
        TestCheckpoints.Write(input, sharded: true);
        const string pruned = "model.layers.1.mlp.down_proj.weight";
        using var values = randn(4, 6) * (rand(4, 6) > 0.5);
        using (var checkpoint = HfCheckpoint.Open(input))
        using (var writer = new CheckpointWriter(checkpoint, output, new() { Metadata = new Dictionary<string, string> { ["pruned_by"] = "PruneSharp", ["sparsity"] = "0.50" } }))
        {
            writer.Replace(pruned, values);
            writer.Commit();
        }
        using var before = HfCheckpoint.Open(input);
        using var after = HfCheckpoint.Open(output);
        Assert.Equal(before.ShardFiles, after.ShardFiles);
        foreach (string name in before.Names)
        {
            Assert.Equal(before.ShardOf(name), after.ShardOf(name));
            Assert.Equal(before.Info(name) with { Begin = 0, End = 0, Shape = [] }, after.Info(name) with { Begin = 0, End = 0, Shape = [] });
            Assert.Equal(before.Shape(name), after.Shape(name));
            if (name == pruned) continue;
            Assert.Equal(before.Shard(before.ShardOf(name)).ReadBytes(name), after.Shard(after.ShardOf(name)).ReadBytes(name));
        }
        using var read = after.Read(pruned);
        using var expected = values.to(ScalarType.BFloat16).to(ScalarType.Float32);
        Assert.Equal(expected.data<float>().ToArray(), read.data<float>().ToArray());
        foreach (string shard in after.ShardFiles)
        {
            var metadata = after.Shard(shard).Metadata;
            Assert.Equal("pt", metadata["format"]);
            Assert.Equal("PruneSharp", metadata["pruned_by"]);
            Assert.Equal("0.50", metadata["sparsity"]);
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(input, HfCheckpoint.IndexFile)), File.ReadAllBytes(Path.Combine(output, HfCheckpoint.IndexFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(input, "tokenizer.json")), File.ReadAllBytes(Path.Combine(output, "tokenizer.json")));
    }

    [Fact]
    public void Index_total_size_is_brought_up_to_date()
    {
        using var dir = new TempFolder();
        string input = dir.File("in"), output = dir.File("out");
        TestCheckpoints.Write(input, sharded: true);
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(input, HfCheckpoint.IndexFile)))!.AsObject();
        long total = index["metadata"]!["total_size"]!.GetValue<long>();
        index["metadata"]!["total_size"] = 12345;
        TestCheckpoints.WriteIndex(input, index);
        using var checkpoint = HfCheckpoint.Open(input);
        using (var writer = new CheckpointWriter(checkpoint, output)) writer.Commit();
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(output, HfCheckpoint.IndexFile)))!;
        Assert.Equal(total, written["metadata"]!["total_size"]!.GetValue<long>());
        Assert.Equal(index["weight_map"]!.ToJsonString(), written["weight_map"]!.ToJsonString());
    }

    [Fact]
    public void Exception_mid_commit_leaves_no_output_and_no_temporary_folder()
    {
        using var dir = new TempFolder();
        string input = dir.File("in"), output = dir.File("out");
        TestCheckpoints.Write(input, sharded: true);
        using var checkpoint = HfCheckpoint.Open(input);
        using var writer = new CheckpointWriter(checkpoint, output);
        using (var values = zeros(4, 6)) writer.Replace("model.layers.1.mlp.down_proj.weight", values);
        int files = 0;
        var failing = new SynchronousProgress(file => { if (++files == 3) throw new IOException("disk full (simulated)"); });
        Assert.Throws<IOException>(() => writer.Commit(failing));
        Assert.Equal(["in"], FilesIn(dir.Path));
    }

    [Fact]
    public void Cancelled_commit_leaves_an_existing_output_untouched()
    {
        using var dir = new TempFolder();
        string input = dir.File("in"), output = dir.File("out");
        TestCheckpoints.Write(input, sharded: false);
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "old");
        using var checkpoint = HfCheckpoint.Open(input);
        using var cancel = new CancellationTokenSource();
        using (var writer = new CheckpointWriter(checkpoint, output, new() { ReplaceExisting = true }))
        {
            using (var values = zeros(4, 6)) writer.Replace("model.layers.0.mlp.down_proj.weight", values);
            Assert.ThrowsAny<OperationCanceledException>(() => writer.Commit(new SynchronousProgress(_ => cancel.Cancel()), cancel.Token));
        }
        Assert.Equal(["in", "out"], FilesIn(dir.Path));
        Assert.Equal(["keep.txt"], FilesIn(output));
    }

    [Fact]
    public void Existing_output_is_refused_unless_replacing_and_then_swapped_whole()
    {
        using var dir = new TempFolder();
        string input = dir.File("in"), output = dir.File("out");
        TestCheckpoints.Write(input, sharded: false);
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "stale.txt"), "old");
        using var checkpoint = HfCheckpoint.Open(input);
        Assert.Contains("output folder exists", Assert.Throws<IOException>(() => new CheckpointWriter(checkpoint, output)).Message);
        using (var writer = new CheckpointWriter(checkpoint, output, new() { ReplaceExisting = true })) writer.Commit();
        Assert.Equal(FilesIn(input), FilesIn(output));
        Assert.Equal(["in", "out"], FilesIn(dir.Path));
    }

    [Fact]
    public void Stale_temporary_folder_of_a_killed_run_is_removed()
    {
        using var dir = new TempFolder();
        string input = dir.File("in"), output = dir.File("out");
        TestCheckpoints.Write(input, sharded: false);
        string stale = dir.File(".out.prunesharp-partial", "checkpoint");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "model.safetensors"), "half written");
        using var checkpoint = HfCheckpoint.Open(input);
        using (var writer = new CheckpointWriter(checkpoint, output)) writer.Commit();
        Assert.Equal(["in", "out"], FilesIn(dir.Path));
        Assert.Equal(File.ReadAllBytes(Path.Combine(input, "model.safetensors")), File.ReadAllBytes(Path.Combine(output, "model.safetensors")));
    }

    [Fact]
    public void Writer_disposed_without_commit_removes_its_spills()
    {
        using var dir = new TempFolder();
        string input = dir.File("in");
        TestCheckpoints.Write(input, sharded: false);
        using var checkpoint = HfCheckpoint.Open(input);
        using (var writer = new CheckpointWriter(checkpoint, dir.File("out")))
        using (var values = zeros(4, 6))
            writer.Replace("model.layers.0.mlp.down_proj.weight", values);
        Assert.Equal(["in"], FilesIn(dir.Path));
    }

    [Fact]
    public void Replacement_of_unknown_name_or_other_shape_is_refused()
    {
        using var dir = new TempFolder();
        string input = dir.File("in");
        TestCheckpoints.Write(input, sharded: false);
        using var checkpoint = HfCheckpoint.Open(input);
        using var writer = new CheckpointWriter(checkpoint, dir.File("out"));
        using var values = zeros(6, 4);
        Assert.Contains("no tensor 'nope'", Assert.Throws<ArgumentException>(() => writer.Replace("nope", values)).Message);
        Assert.Contains("shape [4,6] but the replacement has [6,4]",
            Assert.Throws<ArgumentException>(() => writer.Replace("model.layers.0.mlp.down_proj.weight", values)).Message);
        Assert.Throws<IOException>(() => new CheckpointWriter(checkpoint, Path.Combine(input, "out")));
    }

    /// <summary>Calls back on the reporting thread (Progress&lt;T&gt; posts to the thread pool), so a throw reaches the writer.</summary>
    sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
