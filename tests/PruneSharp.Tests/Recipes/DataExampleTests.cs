using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Onnx;
using PruneSharp.Recipes;
using PruneSharp.Recovery;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;
using PruneSharp.Training;

namespace PruneSharp.Tests.Recipes;

/// <summary>
/// The examples on text and unlabeled data (examples/text-lm.yaml, examples/encoder-distill.yaml) run as written, on a
/// tiny budget, and what they report is what an independent evaluation of the file they wrote gives.
/// </summary>
[Collection(SerialCollection.Name)]
public class DataExampleTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { RunCommand.Create(), TrainCommand.Create() }, args);

    static string Example(string name) => Path.Combine(Repository.Root(), "examples", name);

    [Fact]
    public void The_text_example_reports_the_perplexity_of_the_model_it_wrote()
    {
        using var folder = new TempFolder();
        string recipe = Example("text-lm.yaml");
        string text = Path.Combine(Repository.Root(), "tests", "PruneSharp.Tests", "Pruning", "Structured", "Fixtures", "bert_encoder_sentences.txt");
        // The model the example's header trains, on one epoch.
        var (code, output, error) = Invoke("train", "--model", "tiny-gpt", "--data", text, "--context", "64", "--gpt-layers", "2", "--gpt-width", "64",
            "--epochs", "1", "--optimizer", "adamw", "--lr", "3e-3", "-o", folder.File("tiny-gpt.onnx"), "--no-store", "--json");
        Assert.True(code == 0, error + output);
        double trained = JsonDocument.Parse(output).RootElement.GetProperty("heldOut").GetProperty("Perplexity").GetDouble();
        var data = Recipe.Load(recipe, [RecipeOverride.Parse($"model={folder.File("tiny-gpt.onnx")}")]).Pipeline.Data!;
        double heldOutFraction = data.HeldOut ?? PruneSharp.Pipelines.DataDescription.DefaultHeldOut;
        Assert.Equal((Path.GetFullPath(text), 64, 0.1), (Path.GetFullPath(data.Source), data.Context, heldOutFraction));

        (code, output, error) = Invoke("run", recipe, "--set", $"model={folder.File("tiny-gpt.onnx")}", "--set", $"export.path={folder.File("pruned.onnx")}",
            "--set", "data.train_examples=32", "--json", "--store", folder.File("runs.db"));
        Assert.True(code == 0, error + output);
        var report = JsonDocument.Parse(output).RootElement;

        // Before: the perplexity train measured on the same held-out end; after: that of the written file.
        var heldOut = TextCorpus.Load(data.Source, TextTokenizer.Bytes, heldOutFraction).HeldOutTokens;
        using var written = OnnxFile.Load(folder.File("pruned.onnx"));
        double after = Evaluator.Perplexity(written, heldOut, data.Context!.Value).Perplexity;
        Assert.Equal(trained, report.GetProperty("perplexity_before").GetDouble(), 9);
        Assert.Equal(after, report.GetProperty("perplexity_after").GetDouble(), 9);
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = Assert.Single(runs.ListRuns());
        Assert.Equal(after, run.Metrics[MetricNames.Perplexity], 9);

        // The heads went (fewer parameters), then half of the weights the magnitude stage prunes: the file's zeros are those reported.
        var stages = report.GetProperty("stages");
        Assert.True(stages[0].GetProperty("params_after").GetInt64() < stages[0].GetProperty("params_before").GetInt64());
        Assert.Equal(stages[0].GetProperty("params_after").GetInt64(), written.parameters().Sum(p => p.numel()));
        long zeros = written.parameters().Sum(p => p.eq(0).sum().item<long>());
        Assert.True(zeros > 0);
        Assert.Equal(stages[1].GetProperty("total_sparsity").GetDouble(), zeros / (double)written.parameters().Sum(p => p.numel()), 9);
        Assert.Equal(0.5, run.Metrics[MetricNames.Sparsity], 2);
    }

    [Fact]
    public void The_encoder_example_reports_the_distillation_loss_of_the_model_it_wrote()
    {
        using var folder = new TempFolder();
        string recipe = Example("encoder-distill.yaml");
        var (code, output, error) = Invoke("run", recipe, "--set", $"export.path={folder.File("small.onnx")}", "--set", "data.train_examples=16",
            "--set", "recovery.epochs=1", "--json", "--no-store");
        Assert.True(code == 0, error + output);
        var stage = JsonDocument.Parse(output).RootElement.GetProperty("stages")[0];

        // The written encoder is the smaller one reported, and its loss against the dense encoder on the same 16
        // sentences, measured here from the files, is the loss the distillation reported at its end.
        var d = Recipe.Load(recipe).Pipeline;
        using var dense = OnnxFile.Load(d.Model);
        using var written = OnnxFile.Load(folder.File("small.onnx"));
        Assert.Equal(stage.GetProperty("params_after").GetInt64(), written.parameters().Sum(p => p.numel()));
        Assert.True(stage.GetProperty("params_after").GetInt64() < stage.GetProperty("params_before").GetInt64());
        var examples = PruneSharp.Pipelines.Sources.LoadExamples(d.Data!.Source, dense, d.Data.Tokenizer!, d.Data.Context!.Value, Preprocessing.None);
        var feed = new GraphFeed(dense.Graph, examples);
        var options = PruneSharp.Pipelines.Pipeline.DistillationSettings(d.Recovery);
        var plan = Distillation.Plan(dense, written, feed, options);
        double loss = Distillation.MeanLoss(dense, written, plan, feed, options, Enumerable.Range(0, 16).ToArray(), d.Recovery.BatchSize);
        var distillation = stage.GetProperty("distillation");
        Assert.Equal(distillation.GetProperty("loss_after").GetDouble(), loss, 5);
        Assert.True(distillation.GetProperty("loss_after").GetDouble() < distillation.GetProperty("loss_before").GetDouble());
    }
}
