using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;
using PruneSharp.Recipes;
using PruneSharp.Tests.Support;
using PruneSharp.Training;

namespace PruneSharp.Tests.Recipes;

/// <summary>Comparison recipes: the demo is examples/demo.yaml, run by the library's <see cref="ComparisonPipeline"/> from the verb and from the file alike.</summary>
[Collection(SerialCollection.Name)]
public class ComparisonRecipeTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { DemoCommand.Create(), RunCommand.Create() }, args);

    static string DemoFile => Path.Combine(Repository.Root(), "examples", "demo.yaml");

    static string Json<T>(T value) => JsonSerializer.Serialize(value);

    [Fact]
    public void The_demo_verb_and_its_recipe_file_describe_the_demo_as_it_was()
    {
        // One source: the verb carries the file's text.
        Assert.Equal(File.ReadAllText(DemoFile), DemoCommand.RecipeText());
        using var folder = new TempFolder();
        string report = folder.File("report.html");
        foreach (var (epochs, finetune, examples, threads, recompute) in new (int?, int?, int?, int?, bool)[] { (null, null, null, null, false), (1, 0, 500, 2, true) })
        {
            var overrides = DemoCommand.Overrides(folder.Path, report, epochs, finetune, examples, threads, recompute);
            var verb = Recipe.Parse(DemoCommand.RecipeText(), DemoCommand.Source, overrides).Comparison!;
            var file = Recipe.Load(DemoFile, overrides).Comparison!;
            Assert.Equal(Json(file), Json(verb));
            Assert.Equal(recompute, verb.Recompute);
            Assert.Equal(recompute, file.Recompute);
            Assert.Equal(epochs ?? 2, verb.Dense!.Training.Epochs);
            Assert.Equal(threads, verb.Dense.Training.Threads);
            Assert.All(verb.Variants, v => Assert.Equal(Json(verb.Recovery), Json(ComparisonPipeline.VariantPipeline(verb, v).Recovery)));
            Assert.Equal(finetune ?? 1, verb.Recovery.Epochs);
            Assert.Equal(examples, verb.Data.TrainExamples);
        }

        // The study the demo's code held before it was a recipe: the same training, variants, seeds, fine-tune and timing.
        var d = Recipe.Parse(DemoCommand.RecipeText(), DemoCommand.Source, DemoCommand.Overrides(folder.Path, report, null, null, null, null, false)).Comparison!;
        string dense = folder.File("lenet-5-dense.onnx");
        Assert.Equal(Json(new TrainingDescription("lenet-5", new DataDescription(DataLocations.FashionMnist), new ExportDescription(dense),
            new RecoveryDescription("finetune", 2, 128, "sgd", 0.05, 0.9, 5e-4, "cosine"))), Json(ComparisonPipeline.DenseTraining(d)));
        var stages = new Dictionary<string, StageDescription>
        {
            ["global-50"] = new("magnitude", 0.5, Scope: "global", FirstLast: "prune"),
            ["global-80"] = new("magnitude", 0.8, Scope: "global", FirstLast: "prune"),
            ["global-90"] = new("magnitude", 0.9, Scope: "global", FirstLast: "prune"),
            ["global-95"] = new("magnitude", 0.95, Scope: "global", FirstLast: "prune"),
            ["2of4"] = new("magnitude", 0.5, "2:4", FirstLast: "prune"),
            ["channels-50"] = new("l2", null, Structure: "channel", Ratio: 0.5),
        };
        Assert.Equal(stages.Keys, d.Variants.Select(v => v.Name));
        foreach (var v in d.Variants)
            Assert.Equal(Json(new PipelineDescription(dense, new DataDescription(DataLocations.FashionMnist), [stages[v.Name]],
                new RecoveryDescription("finetune", 1, 128, "sgd", 0.01, 0.9, 5e-4, "cosine"), new ExportDescription(folder.File($"lenet-5-{v.Name}.onnx")),
                Seed: 0, Latency: new LatencyDescription(Threads: 1))), Json(ComparisonPipeline.VariantPipeline(d, v)));
    }

    [Fact]
    public void Problems_of_a_comparison_recipe_name_line_column_and_nearest_names()
    {
        const string text = """
            model: lenet-5
            data: {source: fashion-mnist}
            stages: [{method: magnitude, sparsity: 0.5}]
            comparison:
              folder: out
              dense: {epochs: 1, lr: -1, train_exampels: 100}
              variants:
                - name: a
                  stages: [{method: magnitud, sparsity: 0.5}]
                - name: a
                  recovery: {epochs: 1, lr_schedule: cosin}
                  stages: [{method: l2, structure: channel, ratio: 0.5}]
                - label: no name
                  stages: [{method: magnitude, sparsity: 0.5}]
                  stage: []
            """;
        var e = Assert.Throws<RecipeException>(() => Recipe.Parse(text, "cmp.yaml"));
        var problems = e.Problems.Select(p => p.ToString()).ToList();
        Assert.Equal(new[]
        {
            "cmp.yaml:3:1: stages does not apply to a comparison recipe (each of comparison.variants has its stages; the models are written to comparison.folder)",
            "cmp.yaml:6:26: comparison.dense.lr must be positive, got -1",
            "cmp.yaml:6:30: unknown key 'comparison.dense.train_exampels'; comparison.dense holds epochs, batch_size, optimizer, lr, momentum, weight_decay, lr_schedule, freeze, train_only, threads, train_examples (did you mean train_examples?)",
            "cmp.yaml:9:25: comparison.variants[0].stages[0].method 'magnitud' is not one of magnitude, random, snip, taylor, obd, movement, apoz, entropy, loss-change, wanda (did you mean magnitude?)",
            "cmp.yaml:10:13: comparison.variants[1].name 'a' is also the name of comparison.variants[0]",
            "cmp.yaml:11:42: comparison.variants[1].recovery.lr_schedule 'cosin' is not one of constant, cosine, step, onecycle (did you mean cosine?)",
            "cmp.yaml:13:7: comparison.variants[2].name is required (it names the variant's files and run)",
            "cmp.yaml:15:7: unknown key 'comparison.variants[2].stage'; comparison.variants[2] holds name, label, stages, recovery (did you mean stages?)",
        }, problems);

        var both = Assert.Throws<RecipeException>(() => Recipe.Parse("model: lenet-5\ndata: {source: fashion-mnist}\ntraining: {}\nexport: {path: x.onnx}\ncomparison: {folder: out, variants: []}\n", "two.yaml"));
        Assert.Contains(both.Problems, p => p.ToString() == "two.yaml:5:13: a recipe holds at most one of lottery, training, llm, evaluation and comparison");
        Assert.Contains(both.Problems, p => p.ToString().StartsWith("two.yaml:4:1: export does not apply to a comparison recipe", StringComparison.Ordinal));
        Assert.Contains(both.Problems, p => p.Message == "comparison.variants: a comparison needs at least one variant");

        var typo = Assert.Throws<RecipeException>(() => Recipe.Parse("model: lenet-5\ndata: {source: fashion-mnist}\ncomparison: {folder: out, variant: []}\n", "typo.yaml"));
        Assert.Contains(typo.Problems, p => p.ToString() == "typo.yaml:3:27: unknown key 'comparison.variant'; comparison holds folder, report, dense, variants, recompute (did you mean variants?)");
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void The_demo_verb_and_its_recipe_give_the_same_rows_reuse_finished_steps_and_recompute_them_when_asked()
    {
        using var folder = new TempFolder();
        string report = folder.File("report", "report.html");
        // A tiny budget: they show the study's plumbing, not accuracy.
        string[] tiny = ["--set", "comparison.dense.train_examples=1000", "--set", "data.test_examples=300", "--set", "evaluate.rounds=2"];
        string[] demo = ["demo", "--out", folder.Path, "--epochs", "1", "--finetune-examples", "300", "--report", report, .. tiny];
        var (code, output, error) = Invoke([.. demo, "--json"]);
        Assert.True(code == 0, error);
        var rows = JsonDocument.Parse(output).RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["dense", "global-50", "global-80", "global-90", "global-95", "2of4", "channels-50"], rows.Select(r => r.GetProperty("Name").GetString()));
        // Each row's accuracy is that of its written model on the same test examples.
        var test = Subset.First(Sources.LoadData(DataLocations.FashionMnist, DataSplit.Test), 300);
        foreach (var row in rows)
        {
            using var model = OnnxFile.Load(folder.File($"lenet-5-{row.GetProperty("Name").GetString()}.onnx"));
            Assert.Equal(row.GetProperty("Accuracy").GetDouble(), Evaluator.Classify(model, test).Top1, 9);
        }
        // The table is also the run store's content and the report's: one completed run per row, the same accuracies.
        using (var store = PruneSharp.Runs.RunStores.OpenExisting(folder.File("runs.db")))
        {
            var runs = store.ListRuns().Select(r => store.GetRun(r.Id)).ToList();
            Assert.Equal(7, runs.Count);
            Assert.Equal(rows.Select(r => r.GetProperty("Accuracy").GetDouble()).Order(), runs.Select(r => r.Summary.Metrics[PruneSharp.Runs.MetricNames.Accuracy]).Order());
        }
        string html = File.ReadAllText(report);
        Assert.Contains("<svg", html);
        Assert.Contains("magnitude/global", html);

        // The recipe file with the same settings is the same study: every step is reused, and it prints the demo's table.
        string[] run = ["run", DemoFile, "--set", $"comparison.folder={folder.Path}", "--set", $"comparison.report={report}", "--set", "comparison.dense.epochs=1",
            "--set", "data.train_examples=300", .. tiny];
        var (fromFile, table, reused) = Invoke(run);
        Assert.True(fromFile == 0, reused);
        Assert.Equal(7, reused.Split('\n').Count(l => l.StartsWith("reusing ", StringComparison.Ordinal)));
        var (again, demoTable, _) = Invoke(demo);
        Assert.Equal(0, again);
        Assert.Equal(demoTable, table);
        Assert.Contains("global magnitude 95%", table);

        // --recompute ignores the cache; the steps are seeded, so they give the same rows again.
        var (recomputed, fresh, log) = Invoke([.. demo, "--json", "--recompute"]);
        Assert.True(recomputed == 0, log);
        Assert.DoesNotContain("reusing", log);
        var again7 = JsonDocument.Parse(fresh).RootElement.GetProperty("rows").EnumerateArray().ToList();
        foreach (var property in new[] { "Key", "Accuracy", "AccuracyAfterPruning", "NonZeros", "EffectiveMacs" })
            Assert.Equal(rows.Select(r => r.GetProperty(property).ToString()), again7.Select(r => r.GetProperty(property).ToString()));
    }

    /// <summary>Status lines, kept as they are reported.</summary>
    sealed class Lines : IProgress<string>
    {
        public List<string> All { get; } = new();

        public void Report(string value) => All.Add(value);
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void A_given_dense_model_is_compared_as_it_is_and_its_steps_are_recomputed_when_the_file_changes()
    {
        using var folder = new TempFolder();
        string file = folder.File("given.onnx");
        void Write(long seed)
        {
            using var model = PruneSharp.Models.ModelZoo.CreateClassifier("lenet-300-100", new PruneSharp.Models.ClassifierOptions(Seed: seed));
            OnnxFile.Save(model, file);
        }
        Write(0);
        var d = new ComparisonDescription(file, new DataDescription(DataLocations.FashionMnist, TrainExamples: 200, TestExamples: 200), new RecoveryDescription(Kind: "none"),
            [new ComparisonVariant("half", [new StageDescription("magnitude", 0.5, Scope: "global", FirstLast: "prune")])], folder.File("study"));
        var lines = new Lines();
        var first = ComparisonPipeline.Run(d, new PipelineProgress(Status: lines));
        Assert.DoesNotContain(lines.All, l => l.StartsWith("reusing", StringComparison.Ordinal));
        Assert.False(File.Exists(folder.File("study", "given-dense.onnx")));
        var (dense, half) = (first.Rows[0], first.Rows[1]);
        Assert.Equal(266_610, dense.Parameters);
        Assert.Equal(dense.Parameters, half.Parameters);
        Assert.Equal(0.5, half.Sparsity, 3);
        Assert.Equal(half.Accuracy, half.AccuracyAfterPruning); // no recovery: measured once, right after pruning

        lines.All.Clear();
        var again = ComparisonPipeline.Run(d, new PipelineProgress(Status: lines));
        Assert.Equal(2, lines.All.Count(l => l.StartsWith("reusing", StringComparison.Ordinal)));
        Assert.Equal(Json(first.Rows), Json(again.Rows));

        // Another model under the same name: its hash is in every key, so both steps are computed again.
        Write(1);
        lines.All.Clear();
        var changed = ComparisonPipeline.Run(d, new PipelineProgress(Status: lines));
        Assert.DoesNotContain(lines.All, l => l.StartsWith("reusing", StringComparison.Ordinal));
        Assert.All(first.Rows.Zip(changed.Rows), pair => Assert.NotEqual(pair.First.Key, pair.Second.Key));
    }
}
