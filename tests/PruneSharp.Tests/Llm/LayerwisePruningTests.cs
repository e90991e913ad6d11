using PruneSharp.Llm;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Llm.Pruning;
using PruneSharp.Tests.Llm.Models;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm;

/// <summary>
/// Checkpoints that transformers saved (<c>Models/Fixtures</c>) pruned end to end: what is written is what was pruned
/// in memory, in the input's layout, N:M where asked, and nothing is left behind when a run stops.
/// </summary>
public class LayerwisePruningTests
{
    const string Text = """
        In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was
        upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be
        light: and there was light. And God saw the light, that it was good: and God divided the light from the darkness.
        And God called the light Day, and the darkness he called Night. And the evening and the morning were the first day.
        """;

    static string Fixture(string name) => Path.Combine(TransformersReferenceTests.Folder, name);

    static CalibrationText Calibration(TempFolder temp, int samples = 4, int length = 32)
    {
        string file = temp.File("calibration.txt");
        File.WriteAllText(file, Text);
        return new CalibrationText(file, samples, length, Seed: 3);
    }

    [Theory]
    [InlineData("llama-gqa-bf16-sharded", "sparsegpt", "2:4")]
    [InlineData("gpt2-f32", "wanda", "0.5")]
    [InlineData("opt-f32", "magnitude", "4:8")]
    [InlineData("qwen2-gqa-bf16", "sparsegpt", "0.5")]
    public void Written_checkpoint_reloads_with_the_pruned_models_logits_in_the_same_layout(string fixture, string method, string sparsity)
    {
        using var temp = new TempFolder();
        using var probe = tensor(new long[] { 5, 17, 250, 3, 99, 41, 7, 600, 12, 1 }).reshape(1, -1);
        var options = new LlmPruningOptions
        {
            Method = Enum.Parse<LinearPruningMethod>(method, ignoreCase: true),
            Pattern = SparsityPattern.Parse(sparsity),
            Probe = probe,
        };
        string output = temp.File("pruned");
        var result = CheckpointPruning.Run(Fixture(fixture), output, options, Calibration(temp));
        using var probeLogits = result.Report.ProbeLogits!;

        var input = Directory.GetFiles(Fixture(fixture)).Select(Path.GetFileName).Where(f => f != "reference.safetensors").Order();
        Assert.Equal(input, Directory.GetFiles(output).Select(Path.GetFileName).Order());
        using (var original = HfCheckpoint.Open(Fixture(fixture)))
        using (var pruned = HfCheckpoint.Open(output))
        {
            Assert.Equal(original.Names, pruned.Names);
            Assert.Equal(original.WeightDType, pruned.WeightDType);
            var linears = result.Report.Layers.SelectMany(l => l.Linears.Select(x => $".{l.Layer}.{x.Name}.weight")).ToHashSet();
            Assert.NotEmpty(linears);
            foreach (string name in original.Names.Where(n => !linears.Any(n.EndsWith)))
                Assert.Equal(original.Shard(original.ShardOf(name)).ReadBytes(name), pruned.Shard(pruned.ShardOf(name)).ReadBytes(name));
        }
        var inspection = CheckpointInspection.Of(output);
        var pattern = SparsityPattern.Parse(sparsity);
        Assert.InRange(inspection.Sparsity, pattern.Sparsity - 0.01, pattern.Sparsity + 0.01);
        if (pattern.IsNM) Assert.All(inspection.Linears, l => Assert.True(pattern.M == 4 ? l.Valid2To4 : l.Valid4To8, $"{l.Layer}.{l.Name} breaks {pattern}"));

        using var reloaded = LanguageModelCheckpoint.Open(output);
        using var logits = reloaded.Model.Logits(probe);
        double difference = (logits - probeLogits).abs().max().item<float>();
        Assert.True(difference < 1e-4, $"the written checkpoint's logits differ from the in-memory pruned model's by {difference}");
    }

    [Fact]
    public void SparseGpt_reconstructs_better_than_magnitude_layer_by_layer()
    {
        using var temp = new TempFolder();
        double Error(LinearPruningMethod method) =>
            CheckpointPruning.Run(Fixture("mistral-gqa-f32"), temp.File(method.ToString()), new LlmPruningOptions { Method = method, Pattern = SparsityPattern.Parse("2:4") }, Calibration(temp, samples: 8))
                .Report.Layers.SelectMany(l => l.Linears).Average(l => l.ReconstructionError);
        double sparseGpt = Error(LinearPruningMethod.SparseGpt), magnitude = Error(LinearPruningMethod.Magnitude);
        Assert.True(sparseGpt < magnitude, $"SparseGPT's mean reconstruction error {sparseGpt} is not below magnitude's {magnitude}");
    }

    [Fact]
    public void Owl_spreads_the_target_over_layers_and_keeps_its_mean()
    {
        using var temp = new TempFolder();
        var options = new LlmPruningOptions { Method = LinearPruningMethod.Wanda, Pattern = SparsityPattern.Parse("0.6"), Allocation = LayerAllocation.Owl, OwlLambda = 0.05 };
        var report = CheckpointPruning.Run(Fixture("llama-tied-f16"), temp.File("owl"), options, Calibration(temp)).Report;
        var targets = report.Layers.Select(l => l.TargetSparsity).ToArray();
        Assert.Equal(0.6, targets.Average(), 6);
        Assert.All(targets, t => Assert.InRange(t, 0.55 - 1e-9, 0.65 + 1e-9));
        Assert.All(report.Layers, l => Assert.NotNull(l.OutlierRatio));
        // The layer with more outliers keeps more weights.
        var byRatio = report.Layers.OrderBy(l => l.OutlierRatio).ToArray();
        Assert.True(byRatio[0].TargetSparsity >= byRatio[^1].TargetSparsity);
    }

    [Fact]
    public void A_cancelled_run_leaves_no_output_and_no_partial_folder()
    {
        using var temp = new TempFolder();
        using var cancel = new CancellationTokenSource();
        var progress = new Progress(() => cancel.Cancel());
        string output = temp.File("never");
        Assert.Throws<OperationCanceledException>(() => CheckpointPruning.Run(Fixture("llama-gqa-bf16-sharded"), output,
            new LlmPruningOptions { Method = LinearPruningMethod.Wanda, Pattern = SparsityPattern.Parse("0.5") }, Calibration(temp), progress: progress, cancellation: cancel.Token));
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetDirectories(temp.Path));
    }

    [Fact]
    public void Calibration_text_shorter_than_a_window_is_refused_with_the_lengths()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("short.txt"), "In the beginning.");
        var e = Assert.Throws<ArgumentException>(() => CheckpointPruning.Run(Fixture("gpt2-f32"), temp.File("out"),
            new LlmPruningOptions { Method = LinearPruningMethod.Wanda, Pattern = SparsityPattern.Parse("0.5") }, new CalibrationText(temp.File("short.txt"), 2, 64)));
        Assert.Contains("fewer than one calibration window", e.Message);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    /// <summary>Calls back synchronously (System.Progress posts to the thread pool).</summary>
    sealed class Progress(Action action) : IProgress<LayerProgress>
    {
        public void Report(LayerProgress value) => action();
    }
}
