using System.Text.Json.Nodes;
using PruneSharp.Llm;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Llm.Depth;
using PruneSharp.Tests.Llm.Models;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Depth;

/// <summary>
/// ShortGPT on checkpoints that transformers saved (<c>Models/Fixtures</c>): Block Influence against a direct
/// computation, and the shallower checkpoint against the original model run with the removed layers skipped.
/// </summary>
public class DepthPruningTests
{
    const string Text = """
        In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was
        upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be
        light: and there was light. And God saw the light, that it was good: and God divided the light from the darkness.
        """;

    static string Fixture(string name) => Path.Combine(TransformersReferenceTests.Folder, name);

    static CalibrationText Calibration(TempFolder temp)
    {
        string file = temp.File("calibration.txt");
        File.WriteAllText(file, Text);
        return new CalibrationText(file, Samples: 5, SequenceLength: 16, Seed: 3);
    }

    static readonly long[] ProbeIds = [5, 17, 250, 3, 99, 41, 7, 600, 12, 1];

    [Theory]
    [InlineData("llama-gqa-bf16-sharded")]
    [InlineData("gpt2-f32")]
    [InlineData("opt-f32")]
    public void Block_influence_is_one_minus_the_mean_token_cosine_of_layer_input_and_output(string fixture)
    {
        using var temp = new TempFolder();
        using var source = LanguageModelCheckpoint.Open(Fixture(fixture));
        var text = Calibration(temp);
        using var windows = TokenWindows.Calibration(source.Tokenize(text.TextFile), text.Samples, text.SequenceLength, text.Seed);
        var influence = BlockInfluence.Compute(source.Model, windows, batchSize: 2);

        using var noGrad = no_grad();
        var hidden = source.Model.Embed(windows);
        for (int i = 0; i < source.Model.LayerCount; i++)
        {
            using var layer = source.Model.LoadLayer(i);
            var next = layer.Forward(hidden);
            using var x = hidden.to_type(ScalarType.Float64).reshape(-1, hidden.shape[2]);
            using var y = next.to_type(ScalarType.Float64).reshape(-1, hidden.shape[2]);
            double sum = 0;
            for (long t = 0; t < x.shape[0]; t++)
            {
                double dot = (x[t] * y[t]).sum().item<double>(), nx = x[t].norm().item<double>(), ny = y[t].norm().item<double>();
                sum += dot / (nx * ny);
            }
            double expected = 1 - sum / x.shape[0];
            Assert.True(Math.Abs(expected - influence[i]) < 1e-5, $"layer {i}: BI {influence[i]}, direct {expected}");
            hidden.Dispose();
            hidden = next;
        }
        hidden.Dispose();
    }

    [Theory]
    [InlineData("llama-gqa-bf16-sharded", 0)]
    [InlineData("llama-gqa-bf16-sharded", 1)]
    [InlineData("gpt2-f32", 0)]
    [InlineData("opt-f32", 0)]
    [InlineData("qwen2-gqa-bf16", 0)]
    [InlineData("mistral-gqa-f32", 1)]
    public void Written_checkpoint_has_the_logits_of_the_original_with_the_removed_layers_skipped(string fixture, int removedLayer)
    {
        using var temp = new TempFolder();
        string output = temp.File("shallow");
        using var source = LanguageModelCheckpoint.Open(Fixture(fixture));
        int layers = source.Model.LayerCount;
        using (var writer = new CheckpointWriter(source.Checkpoint, output))
        {
            LayerRemoval.Plan(writer, source.Checkpoint, source.Model, [removedLayer]);
            writer.Commit();
        }

        using var probe = tensor(ProbeIds).reshape(1, -1);
        using var noGrad = no_grad();
        var hidden = source.Model.Embed(probe);
        for (int i = 0; i < layers; i++)
        {
            if (i == removedLayer) continue;
            using var layer = source.Model.LoadLayer(i);
            var next = layer.Forward(hidden);
            hidden.Dispose();
            hidden = next;
        }
        using var expected = source.Model.Head(hidden);
        hidden.Dispose();

        using var shallow = LanguageModelCheckpoint.Open(output);
        Assert.Equal(layers - 1, shallow.Model.LayerCount);
        using var logits = shallow.Model.Logits(probe);
        double difference = (logits - expected).abs().max().item<float>();
        Assert.True(difference == 0, $"logits differ from the original with layer {removedLayer} skipped by {difference}");

        // Every kept tensor is stored byte for byte under its new name; nothing of the removed layer is left.
        var original = source.Checkpoint;
        string removedPrefix = source.Model.LayerPrefix(removedLayer);
        Assert.DoesNotContain(shallow.Checkpoint.Names, n => removedLayer == layers - 1 && n.StartsWith(removedPrefix, StringComparison.Ordinal));
        var expectedNames = new List<string>();
        foreach (string name in original.Names.Where(n => !n.StartsWith(removedPrefix, StringComparison.Ordinal)))
        {
            string renamed = name;
            for (int i = removedLayer + 1; i < layers; i++)
                if (name.StartsWith(source.Model.LayerPrefix(i), StringComparison.Ordinal))
                    renamed = source.Model.LayerPrefix(i - 1) + name[source.Model.LayerPrefix(i).Length..];
            expectedNames.Add(renamed);
            Assert.Equal(original.Shard(original.ShardOf(name)).ReadBytes(name), shallow.Checkpoint.Shard(shallow.Checkpoint.ShardOf(renamed)).ReadBytes(renamed));
        }
        Assert.Equal(expectedNames.Order(StringComparer.Ordinal), shallow.Checkpoint.Names.Order(StringComparer.Ordinal));

        // config.json states the new depth, per-layer lists keep the kept layers' entries, everything else as it was.
        var before = original.Config;
        var after = shallow.Checkpoint.Config;
        string key = before.ContainsKey("n_layer") ? "n_layer" : "num_hidden_layers";
        Assert.Equal(layers - 1, after[key]!.GetValue<int>());
        if (before["layer_types"] is JsonArray types)
            Assert.Equal(types.Where((_, i) => i != removedLayer).Select(t => t!.ToJsonString()), after["layer_types"]!.AsArray().Select(t => t!.ToJsonString()));
        foreach (var (name, value) in before.Where(p => p.Key != key && p.Key != "layer_types"))
            Assert.True(JsonNode.DeepEquals(value, after[name]), $"config field '{name}' changed");
    }

    [Fact]
    public void Sharded_checkpoint_keeps_its_shard_names_and_its_index_follows_the_tensors()
    {
        using var temp = new TempFolder();
        string output = temp.File("shallow");
        using var source = LanguageModelCheckpoint.Open(Fixture("llama-gqa-bf16-sharded"));
        using (var writer = new CheckpointWriter(source.Checkpoint, output))
        {
            LayerRemoval.Plan(writer, source.Checkpoint, source.Model, [1]);
            writer.Commit();
        }
        using var shallow = HfCheckpoint.Open(output);
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(output, HfCheckpoint.IndexFile)))!.AsObject();
        var map = index["weight_map"]!.AsObject();
        Assert.DoesNotContain(map, p => p.Key.StartsWith("model.layers.1.", StringComparison.Ordinal));
        Assert.Equal(shallow.Names.Order(StringComparer.Ordinal), map.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(shallow.Names.Sum(n => shallow.Info(n).ByteCount), index["metadata"]!["total_size"]!.GetValue<long>());
        // Shards keep their names; one whose tensors all went is neither written nor listed.
        var listed = map.Select(p => p.Value!.GetValue<string>()).Distinct().Order().ToList();
        Assert.All(listed, f => Assert.Contains(f, source.Checkpoint.ShardFiles));
        Assert.Equal(listed, Directory.GetFiles(output, "*.safetensors").Select(Path.GetFileName).Order());
        var emptied = source.Checkpoint.ShardFiles.Where(f => source.Checkpoint.Shard(f).Names.All(n => n.StartsWith("model.layers.1.", StringComparison.Ordinal)));
        Assert.All(emptied, f => Assert.DoesNotContain(f, listed));
    }

    [Fact]
    public void Run_removes_the_lowest_influence_layers_and_reports_them()
    {
        using var temp = new TempFolder();
        var result = DepthPruning.Run(Fixture("gpt2-f32"), temp.File("shallow"), LayerChoice.Lowest(1), Calibration(temp), batchSize: 2);
        Assert.Equal(2, result.Influence.Count);
        Assert.Equal(BlockInfluence.LowestLayers(result.Influence, 1), result.Removed);
        using var shallow = LanguageModelCheckpoint.Open(result.Output);
        Assert.Equal(1, shallow.Model.LayerCount);
        Assert.Equal(1, shallow.Checkpoint.Config["n_layer"]!.GetValue<int>());
        Assert.Equal("shortgpt", shallow.Checkpoint.Shard(HfCheckpoint.SingleFile).Metadata["pruning_method"]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Removing_no_layer_or_every_layer_is_refused_before_any_work(int remove)
    {
        using var temp = new TempFolder();
        string output = temp.File("shallow");
        var error = Assert.Throws<ArgumentException>(() => DepthPruning.Run(Fixture("opt-f32"), output, LayerChoice.Lowest(remove), Calibration(temp)));
        Assert.Contains("at least 1 and below the model's 2 layers", error.Message);
        Assert.Contains($"got {remove}", error.Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Given_layers_are_removed_whatever_their_influence()
    {
        using var temp = new TempFolder();
        var lowest = DepthPruning.Run(Fixture("gpt2-f32"), temp.File("lowest"), LayerChoice.Lowest(1), Calibration(temp), batchSize: 2);
        int other = 1 - lowest.Removed[0];
        var given = DepthPruning.Run(Fixture("gpt2-f32"), temp.File("given"), LayerChoice.Exactly([other, other]), Calibration(temp), batchSize: 2);
        Assert.Equal([other], given.Removed);
        Assert.Equal(lowest.Influence, given.Influence);
        using var shallow = LanguageModelCheckpoint.Open(given.Output);
        Assert.Equal(1, shallow.Model.LayerCount);
    }

    [Fact]
    public void A_given_layer_the_model_lacks_is_refused_before_any_work()
    {
        using var temp = new TempFolder();
        string output = temp.File("shallow");
        var error = Assert.Throws<ArgumentException>(() => DepthPruning.Run(Fixture("opt-f32"), output, LayerChoice.Exactly([5]), Calibration(temp)));
        Assert.Contains("layer 5 does not exist; the model's layers are 0 to 1", error.Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Config_lowers_the_layer_count_and_filters_per_layer_lists_only()
    {
        var config = JsonNode.Parse("""
            {"model_type": "qwen2", "num_hidden_layers": 4, "layer_types": ["a", "b", "c", "d"], "architectures": ["X", "Y", "Z", "W"],
             "max_window_layers": 4}
            """)!.AsObject();
        var rewritten = LayerRemoval.Config(config, 4, [1, 2]);
        Assert.Equal(2, rewritten["num_hidden_layers"]!.GetValue<int>());
        Assert.Equal(["a", "d"], rewritten["layer_types"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(config["architectures"], rewritten["architectures"]));
        Assert.Equal(4, config["num_hidden_layers"]!.GetValue<int>());
        Assert.Throws<ArgumentException>(() => LayerRemoval.Config(config, 4, [0, 1, 2, 3]));
        Assert.Throws<ArgumentException>(() => LayerRemoval.Config(config, 4, [4]));
    }

    [Fact]
    public void Lowest_layers_break_ties_toward_the_later_layer()
    {
        Assert.Equal([2], BlockInfluence.LowestLayers([0.3, 0.1, 0.1, 0.5], 1));
        Assert.Equal([1, 2], BlockInfluence.LowestLayers([0.3, 0.1, 0.1, 0.5], 2));
        Assert.Equal([0, 1, 2], BlockInfluence.LowestLayers([0.3, 0.1, 0.1, 0.5], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockInfluence.LowestLayers([0.3, 0.1], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockInfluence.LowestLayers([0.3, 0.1], 0));
    }
}
