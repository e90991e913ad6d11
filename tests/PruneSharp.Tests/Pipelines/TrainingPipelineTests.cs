using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;
using PruneSharp.Recipes;
using PruneSharp.Runs;
using PruneSharp.Tests.Cli;
using PruneSharp.Tests.Support;
using PruneSharp.Training;

namespace PruneSharp.Tests.Pipelines;

/// <summary>
/// <c>train</c>'s flags and a recipe's <c>training</c> section describe the same <see cref="TrainingDescription"/>
/// and run through the same <see cref="TrainingPipeline"/>: with the same seed they write the same weights, bit for bit.
/// </summary>
[Collection(SerialCollection.Name)]
public class TrainingPipelineTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { TrainCommand.Create(), RunCommand.Create() }, args);

    static void AssertSameWeights(string expected, string actual)
    {
        var (a, b) = (OnnxFile.Read(expected), OnnxFile.Read(actual));
        Assert.Equal(a.Initializers.Keys.Order(), b.Initializers.Keys.Order());
        foreach (var (name, value) in a.Initializers)
            Assert.True(value.shape.SequenceEqual(b.Initializers[name].shape) && value.eq(b.Initializers[name]).all().item<bool>(), $"{name} differs");
    }

    /// <summary>Each case: train's flags beyond the common ones, and the recipe's <c>training</c> section that says the same.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "--at-init snip --sparsity 0.8 --at-init-batches 2", "at_init: {method: snip, sparsity: 0.8, batches: 2}" },
        { "--sparse-training rigl --sparsity 0.9 --update-every 2 --regularize l1 --penalty 1e-3", "sparse_training: {method: rigl, sparsity: 0.9, update_every: 2}\n  regularize: {kind: l1, penalty: 0.001}" },
        { "--network-surgery --sparsity 0.7 --surgery-gamma 0", "network_surgery: {sparsity: 0.7, gamma: 0}" },
        { "--soft-filter-pruning 0.25 --regularize group-lasso --group channel", "soft_filter_pruning: 0.25\n  regularize: {kind: group-lasso, group: channel}" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_flags_and_the_equivalent_recipe_write_the_same_weights(string flags, string training)
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 48), byFlags = folder.File("flags.onnx"), byRecipe = folder.File("recipe.onnx");
        var (code, _, error) = Invoke(["train", "--model", "lenet-5", "--data", data, "--epochs", "2", "--batch-size", "16", "--threads", "2", "--seed", "3",
            "--optimizer", "adam", "--lr", "0.002", "-o", byFlags, "--no-store", .. flags.Split(' ')]);
        Assert.True(code == 0, error);
        File.WriteAllText(folder.File("train.yaml"), $"""
            model: lenet-5
            seed: 3
            data: {"{"}source: {data}{"}"}
            recovery: {"{"}epochs: 2, batch_size: 16, threads: 2, optimizer: adam, lr: 0.002{"}"}
            training:
              {training}
            export: {"{"}path: recipe.onnx{"}"}
            """);
        (code, _, error) = Invoke("run", folder.File("train.yaml"), "--no-store");
        Assert.True(code == 0, error);
        AssertSameWeights(byFlags, byRecipe);
        // The sparse methods left zeros in the written model (a dense run would have none).
        var weights = OnnxFile.Read(byRecipe).Initializers.Values.Where(w => w.dim() >= 2).ToList();
        Assert.True(weights.Sum(w => w.eq(0).sum().item<long>()) > 0);
    }

    [Fact]
    public void A_language_model_trained_by_flags_and_by_recipe_has_the_same_weights()
    {
        using var folder = new TempFolder();
        string text = folder.File("corpus.txt"), byFlags = folder.File("flags.onnx");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("In the beginning was the word, and the word was with the text. ", 30)));
        var (code, output, error) = Invoke("train", "--model", "tiny-gpt", "--data", text, "--epochs", "1", "--gpt-layers", "1", "--gpt-heads", "2",
            "--gpt-width", "16", "--context", "16", "--batch-size", "8", "--optimizer", "adamw", "--lr", "0.01", "--seed", "2", "--json", "-o", byFlags, "--no-store");
        Assert.True(code == 0, error);
        double flagsPerplexity = JsonDocument.Parse(output).RootElement.GetProperty("heldOut").GetProperty("Perplexity").GetDouble();
        File.WriteAllText(folder.File("gpt.yaml"), """
            model: tiny-gpt
            seed: 2
            data: {source: corpus.txt}
            recovery: {epochs: 1, batch_size: 8, optimizer: adamw, lr: 0.01}
            training:
              text: {context: 16, layers: 1, heads: 2, width: 16}
            export: {path: recipe.onnx}
            """);
        (code, output, error) = Invoke("run", folder.File("gpt.yaml"), "--json", "--no-store");
        Assert.True(code == 0, error);
        AssertSameWeights(byFlags, folder.File("recipe.onnx"));
        Assert.Equal(flagsPerplexity, JsonDocument.Parse(output).RootElement.GetProperty("heldOut").GetProperty("Perplexity").GetDouble());
    }

    [Theory]
    [InlineData("--normalize 0.5/0.5", "--normalize applies to image data, not to a text file")]
    [InlineData("--augment flip", "--augment applies to image data, not to a text file")]
    [InlineData("--at-init snip --sparsity 0.5", "--at-init prunes image classifiers; it is not supported for a language model")]
    [InlineData("--regularize l1", "apply to image classifiers, not to a text file")]
    [InlineData("--gpt-width 30 --gpt-heads 4", "--gpt-width 30 is not a multiple of --gpt-heads 4")]
    public void Image_flags_on_a_text_file_are_refused_in_one_line_naming_the_flag(string flags, string message)
    {
        using var folder = new TempFolder();
        string text = folder.File("corpus.txt");
        File.WriteAllText(text, "In the beginning was the word. ");
        var (code, _, error) = Invoke(["train", "--model", "tiny-gpt", "--data", text, "-o", folder.File("m.onnx"), "--no-store", .. flags.Split(' ')]);
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(folder.File("m.onnx")));
    }

    [Fact]
    public void Training_keys_are_checked_at_their_line_and_column_with_the_nearest_names()
    {
        const string text = """
            model: lenet-5
            data: {source: fashion-mnist}
            training:
              sparse_training: {method: rigel, sparsity: 1.5}
              at_int: {method: snip}
              network_surgery: {sparsity: 0.5}
            stages:
              - {method: magnitude, sparsity: 0.5}
            export: {path: x.onnx}
            """;
        var problems = Assert.Throws<RecipeException>(() => Recipe.Parse(text, "t.yaml")).Problems.Select(p => p.ToString()).ToList();
        void Reported(string expected) => Assert.True(problems.Any(p => p.Contains(expected)), $"'{expected}' not in:\n{string.Join("\n", problems)}");
        Reported("t.yaml:4:29: training.sparse_training.method 'rigel' is not rigl or set (did you mean rigl?)");
        Reported("t.yaml:4:46: training.sparse_training.sparsity must be in [0, 1), got 1.5");
        Reported("t.yaml:5:3: unknown key 'training.at_int'");
        Reported("(did you mean at_init?)");
        Reported("training.sparse_training, training.soft_filter_pruning and training.network_surgery exclude each other");
        Reported("t.yaml:7:1: stages does not apply to a training recipe");
        Assert.Equal(5, problems.Count);
    }

    [Fact]
    public void A_training_recipe_records_its_epochs_and_outcome_in_the_run_store()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 32);
        File.WriteAllText(folder.File("train.yaml"), $"""
            model: lenet-300-100
            data: {"{"}source: {data}{"}"}
            recovery: {"{"}epochs: 2, batch_size: 16{"}"}
            training:
              at_init: {"{"}method: magnitude, sparsity: 0.5{"}"}
            export: {"{"}path: m.onnx{"}"}
            """);
        var (code, output, error) = Invoke("run", folder.File("train.yaml"), "--json", "--store", folder.File("runs.db"));
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        Assert.Equal((RunStatus.Completed, "recipe", "at-init:magnitude"), (run.Summary.Status, run.Summary.Kind, run.Summary.Method));
        Assert.Equal(2, run.Steps.Where(s => s.Name == "train_loss").Count());
        Assert.Equal(report.GetProperty("test").GetProperty("Top1").GetDouble(), run.Summary.Metrics[MetricNames.Accuracy]);
        Assert.Equal(RunArtifact.FromFile("model", folder.File("m.onnx")).Sha256, Assert.Single(run.Artifacts, a => a.Role == "model").Sha256);
    }

    [RequiresPathTheory(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    [InlineData("train-rigl.yaml")]
    [InlineData("train-synflow.yaml")]
    public void Each_training_example_writes_a_sparse_model_whose_accuracy_is_the_one_reported(string example)
    {
        using var folder = new TempFolder();
        string recipe = Path.Combine(Repository.Root(), "examples", example), output = folder.File("trained.onnx");
        var (code, text, error) = Invoke("run", recipe, "--set", $"export.path={output}", "--json", "--no-store");
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(text).RootElement;
        var training = Recipe.Load(recipe).Training!;
        var test = Subset.First(Sources.LoadData(training.Data.Source, DataSplit.Test), training.Data.TestExamples!.Value);
        using var written = OnnxFile.Load(output);
        Assert.Equal(report.GetProperty("test").GetProperty("Top1").GetDouble(), Evaluator.Classify(written, test).Top1, 9);
        // The zeros of the layer weights are those the method keeps (RigL: exactly its sparsity, maybe a few more; SynFlow: its mask).
        double target = training.DynamicSparsity?.Sparsity ?? training.AtInit!.Sparsity;
        var weights = OnnxFile.Read(output).Initializers.Where(w => w.Key.EndsWith(".weight") && w.Value.dim() >= 2).Select(w => w.Value).ToList();
        double zeros = weights.Sum(w => w.eq(0).sum().item<long>()) / (double)weights.Sum(w => w.numel());
        Assert.InRange(zeros, target - 0.005, target + 0.03);
    }
}
