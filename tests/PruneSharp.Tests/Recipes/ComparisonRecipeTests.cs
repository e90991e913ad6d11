using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;
using PruneSharp.Recipes;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;
using PruneSharp.Training;

namespace PruneSharp.Tests.Recipes;

/// <summary>Comparison recipes: the demo is examples/demo.yaml, run by the library's <see cref="ComparisonPipeline"/> from the verb and from the file alike.</summary>
[Collection(SerialCollection.Name)]
public class ComparisonRecipeTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { DemoCommand.Create(), RunCommand.Create(), SweepCommand.Create() }, args);

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
        Assert.Equal([.. stages.Keys, "synflow-90"], d.Variants.Select(v => v.Name));
        foreach (var v in d.Variants.Where(v => v.AtInit is null))
            Assert.Equal(Json(new PipelineDescription(dense, new DataDescription(DataLocations.FashionMnist), [stages[v.Name]],
                new RecoveryDescription("finetune", 1, 128, "sgd", 0.01, 0.9, 5e-4, "cosine"), new ExportDescription(folder.File($"lenet-5-{v.Name}.onnx")),
                Seed: 0, Latency: new LatencyDescription(Threads: 1))), Json(ComparisonPipeline.VariantPipeline(d, v)));
        // Pruned at initialisation, then trained as the dense model is: `train --at-init synflow --sparsity 0.9` with the dense model's settings.
        Assert.Equal(Json(new TrainingDescription("lenet-5", new DataDescription(DataLocations.FashionMnist), new ExportDescription(folder.File("lenet-5-synflow-90.onnx")),
            new RecoveryDescription("finetune", 2, 128, "sgd", 0.05, 0.9, 5e-4, "cosine")) { AtInit = new AtInitDescription("synflow", 0.9) }),
            Json(ComparisonPipeline.AtInitTraining(d, d.Variants[^1])));
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
            "cmp.yaml:15:7: unknown key 'comparison.variants[2].stage'; comparison.variants[2] holds name, label, stages, recovery, at_init (did you mean stages?)",
        }, problems);

        var both = Assert.Throws<RecipeException>(() => Recipe.Parse("model: lenet-5\ndata: {source: fashion-mnist}\ntraining: {}\nexport: {path: x.onnx}\ncomparison: {folder: out, variants: []}\n", "two.yaml"));
        Assert.Contains(both.Problems, p => p.ToString() == "two.yaml:5:13: a recipe holds at most one of lottery, training, llm, evaluation and comparison (or llm and evaluation: the checkpoint it writes is evaluated)");
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
        Assert.Equal(["dense", "global-50", "global-80", "global-90", "global-95", "2of4", "channels-50", "synflow-90"], rows.Select(r => r.GetProperty("Name").GetString()));
        // Each row's accuracy is that of its written model on the same test examples.
        var test = Subset.First(Sources.LoadData(DataLocations.FashionMnist, DataSplit.Test), 300);
        foreach (var row in rows)
        {
            using var model = OnnxFile.Load(folder.File($"lenet-5-{row.GetProperty("Name").GetString()}.onnx"));
            Assert.Equal(row.GetProperty("Accuracy").GetDouble(), Evaluator.Classify(model, test).Top1, 9);
        }
        // The table is also the run store's content and the report's: one completed run per row, the same accuracies.
        using (var store = RunStores.OpenExisting(folder.File("runs.db")))
        {
            var runs = store.ListRuns().Select(r => store.GetRun(r.Id)).ToList();
            Assert.Equal(8, runs.Count);
            Assert.Equal(rows.Select(r => r.GetProperty("Accuracy").GetDouble()).Order(), runs.Select(r => r.Summary.Metrics[MetricNames.Accuracy]).Order());
        }
        string html = File.ReadAllText(report);
        Assert.Contains("<svg", html);
        Assert.Contains("magnitude/global", html);
        Assert.Contains("at-init:synflow", html);

        // The recipe file with the same settings is the same study: every step is reused, and it prints the demo's table.
        string[] run = ["run", DemoFile, "--set", $"comparison.folder={folder.Path}", "--set", $"comparison.report={report}", "--set", "comparison.dense.epochs=1",
            "--set", "data.train_examples=300", "--no-store", .. tiny];
        var (fromFile, table, reused) = Invoke(run);
        Assert.True(fromFile == 0, reused);
        Assert.Equal(8, reused.Split('\n').Count(l => l.StartsWith("reusing ", StringComparison.Ordinal)));
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

    [Fact]
    public void Problems_of_an_at_init_variant_name_line_column_and_nearest_names()
    {
        const string text = """
            model: lenet-5
            data: {source: fashion-mnist}
            comparison:
              folder: out
              dense: {epochs: 1}
              variants:
                - name: a
                  at_init: {method: synflo, sparsity: 1.5}
                - name: b
                  at_init: {method: snip, sparsity: 0.5, scop: local}
                  stages: [{method: magnitude, sparsity: 0.5}]
                - name: c
                  at_init: {sparsity: 0.5}
            """;
        var problems = Assert.Throws<RecipeException>(() => Recipe.Parse(text, "cmp.yaml")).Problems.Select(p => p.ToString()).ToList();
        Assert.Equal(new[]
        {
            "cmp.yaml:8:25: comparison.variants[0].at_init.method 'synflo' is not one of snip, iterative-snip, grasp, synflow, magnitude, random (did you mean synflow?)",
            "cmp.yaml:8:43: comparison.variants[0].at_init.sparsity must be in [0, 1), got 1.5",
            "cmp.yaml:10:16: comparison.variants[1].at_init trains the variant from initialisation with comparison.dense's settings: it takes no stages or recovery",
            "cmp.yaml:10:46: unknown key 'comparison.variants[1].at_init.scop'; comparison.variants[1].at_init holds method, sparsity, batches, rounds, scope (did you mean scope?)",
            "cmp.yaml:13:16: comparison.variants[2].at_init.method is required (snip, iterative-snip, grasp, synflow, magnitude, random)",
        }, problems);

        // Without comparison.dense there is no training to start from initialisation.
        var given = Assert.Throws<RecipeException>(() => Recipe.Parse(
            "model: dense.onnx\ndata: {source: fashion-mnist}\ncomparison:\n  folder: out\n  variants: [{name: a, at_init: {method: synflow, sparsity: 0.9}}]\n", "given.yaml"));
        Assert.Contains(given.Problems, p => p.ToString() ==
            "given.yaml:5:33: comparison.variants[0].at_init trains the variant from initialisation with comparison.dense's settings: give comparison.dense");
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void An_at_init_variant_is_the_training_run_pruned_at_initialisation_bit_for_bit_and_is_recorded_and_cached_as_a_row()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("study.yaml"), """
            model: lenet-300-100
            data: {source: fashion-mnist, test_examples: 200}
            recovery: {kind: none}
            comparison:
              folder: out
              dense: {epochs: 1, batch_size: 50, threads: 1, train_examples: 200}
              variants:
                - {name: synflow-90, label: SynFlow at init 90%, at_init: {method: synflow, sparsity: 0.9, rounds: 5}}
                - {name: global-90, stages: [{method: magnitude, sparsity: 0.9, scope: global}]}
            """);
        var d = Recipe.Load(folder.File("study.yaml")).Comparison!;
        var lines = new Lines();
        var result = ComparisonPipeline.Run(d, new PipelineProgress(Status: lines));
        Assert.Equal(["dense", "synflow-90", "global-90"], result.Rows.Select(r => r.Name));

        // The same training written out by hand, run by the training pipeline (what `train --at-init synflow` runs).
        string reference = folder.File("reference.onnx");
        var training = new TrainingDescription("lenet-300-100", new DataDescription(DataLocations.FashionMnist, TrainExamples: 200, TestExamples: 200),
            new ExportDescription(reference), new RecoveryDescription(Epochs: 1, BatchSize: 50, Threads: 1)) { AtInit = new AtInitDescription("synflow", 0.9, Rounds: 5) };
        var trained = TrainingPipeline.Run(training);
        using (var expected = OnnxFile.Load(reference))
        using (var actual = OnnxFile.Load(folder.File("out", "lenet-300-100-synflow-90.onnx")))
        {
            var want = expected.state_dict();
            var got = actual.state_dict();
            Assert.Equal(want.Keys.Order(), got.Keys.Order());
            foreach (var (name, tensor) in want)
                Assert.True(tensor.cpu().bytes.SequenceEqual(got[name].cpu().bytes), $"{name} differs from the training run's");
        }
        var row = result.Rows[1];
        Assert.Equal(trained.AtInit!.Sparsity, row.Sparsity);
        Assert.Equal(0.9, row.Sparsity, 2);
        Assert.Equal(trained.Test!.Top1, row.Accuracy);
        Assert.Null(row.AccuracyAfterPruning);
        Assert.Equal(result.Rows[0].Parameters, row.Parameters);
        Assert.True(row.NonZeros < result.Rows[0].Parameters / 5, $"{row.NonZeros} non-zeros of {row.Parameters}");
        Assert.True(row.EffectiveMacs < row.DenseMacs);

        // Recorded as the other rows: its method is the training run's, its sparsity the one pruned at initialisation.
        using (var store = RunStores.OpenExisting(result.Store))
        {
            var run = store.ListRuns().Select(r => store.GetRun(r.Id)).Single(r => r.Parameters["variant"] == "synflow-90");
            Assert.Equal((RunStatus.Completed, "at-init:synflow", "SynFlow at init 90%"), (run.Summary.Status, run.Summary.Method, run.Summary.Name));
            Assert.Equal(row.Sparsity, run.Summary.TargetSparsity!.Value);
            Assert.Equal(row.Accuracy!.Value, run.Summary.Metrics[MetricNames.Accuracy]);
        }
        Assert.Contains("at-init:synflow", File.ReadAllText(result.Report));

        // Cached like the other steps, and computed again when its settings change (the others kept).
        lines.All.Clear();
        Assert.Equal(Json(result.Rows), Json(ComparisonPipeline.Run(d, new PipelineProgress(Status: lines)).Rows));
        Assert.Equal(3, lines.All.Count(l => l.StartsWith("reusing", StringComparison.Ordinal)));
        lines.All.Clear();
        var changed = Recipe.Load(folder.File("study.yaml"), [RecipeOverride.Parse("comparison.variants.0.at_init.sparsity=0.8")]).Comparison!;
        var again = ComparisonPipeline.Run(changed, new PipelineProgress(Status: lines));
        Assert.Equal(2, lines.All.Count(l => l.StartsWith("reusing", StringComparison.Ordinal)));
        Assert.Equal(0.8, again.Rows[1].Sparsity, 2);
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

    [Fact]
    public void A_stage_key_alone_in_set_reaches_every_stage_of_every_variant()
    {
        const string text = """
            model: lenet-5
            data: {source: fashion-mnist}
            comparison:
              folder: out
              dense: {epochs: 1}
              variants:
                - {name: one, stages: [{method: magnitude, sparsity: 0.5, scope: global}]}
                - {name: two, stages: [{method: magnitude, sparsity: 0.3}, {method: magnitude, sparsity: 0.6}]}
            """;
        var plain = Recipe.Parse(text, "cmp.yaml");
        var set = Recipe.Parse(text, "cmp.yaml", [RecipeOverride.Parse("sparsity=0.8"), RecipeOverride.Parse("method=random")]);
        var stages = set.Comparison!.Variants.SelectMany(v => v.Stages).ToList();
        Assert.Equal(3, stages.Count);
        Assert.All(stages, s => Assert.Equal((0.8, "random"), (s.Sparsity, s.Method)));
        // Only those keys changed: the same study with them written in each stage, and another identity than the plain one.
        string written = text.Replace("magnitude", "random").Replace("0.5", "0.8").Replace("0.3", "0.8").Replace("0.6", "0.8");
        Assert.Equal(Recipe.Parse(written, "cmp.yaml").Identity, set.Identity);
        Assert.NotEqual(plain.Identity, set.Identity);
        // Where the study is written and whether its cached steps are reused is not what it is.
        Assert.Equal(plain.Identity, Recipe.Parse(text, "cmp.yaml",
            [RecipeOverride.Parse("comparison.folder=elsewhere/study"), RecipeOverride.Parse("comparison.report=r.html"), RecipeOverride.Parse("comparison.recompute=true")]).Identity);

        // A stage that does not take the key is reported under its variant, as a stage of a plain recipe would be.
        var e = Assert.Throws<RecipeException>(() => Recipe.Load(DemoFile, [RecipeOverride.Parse("sparsity=0.8")]));
        Assert.Contains(e.Problems, p => p.ToString().StartsWith("--set sparsity=0.8: comparison.variants[5].stages[0].sparsity applies to unstructured", StringComparison.Ordinal));
    }

    /// <summary>
    /// Writes <c>study.yaml</c> and the untrained LeNet-300-100 it compares, <c>dense.onnx</c>, into <paramref name="folder"/>:
    /// a tiny budget (the given dense model, 200 examples, no recovery, no timing) so that a run takes seconds.
    /// </summary>
    static void WriteTinyStudy(TempFolder folder)
    {
        using (var model = PruneSharp.Models.ModelZoo.CreateClassifier("lenet-300-100", new PruneSharp.Models.ClassifierOptions()))
            OnnxFile.Save(model, folder.File("dense.onnx"));
        File.WriteAllText(folder.File("study.yaml"), """
            model: dense.onnx
            data: {source: fashion-mnist, train_examples: 200, test_examples: 200}
            recovery: {kind: none}
            comparison:
              folder: out/study
              variants:
                - {name: global, label: global magnitude, stages: [{method: magnitude, sparsity: 0.5, scope: global, first_last: prune}]}
                - {name: local, stages: [{method: magnitude, sparsity: 0.5, first_last: prune}]}
            """);
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void A_sweep_over_a_comparison_records_each_cell_under_its_identity_and_skips_it_when_run_again()
    {
        using var folder = new TempFolder();
        WriteTinyStudy(folder);
        string store = folder.File("runs.db"), output = folder.File("sweep");
        string[] sweep = ["sweep", folder.File("study.yaml"), "--grid", "sparsity=0.6,0.9", "--store", store, "--group", "g", "--out", output, "--json"];
        var (code, text, error) = Invoke(sweep);
        Assert.True(code == 0, error + text);
        var cells = JsonDocument.Parse(text).RootElement.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(["completed", "completed"], cells.Select(c => c.GetProperty("status").GetString()));
        var identities = cells.Select(c => c.GetProperty("identity").GetString()!).ToList();

        List<RunRecord> Recorded()
        {
            using var runs = RunStores.OpenExisting(store);
            return runs.ListRuns().Select(r => runs.GetRun(r.Id)).ToList();
        }
        var recorded = Recorded();
        Assert.Equal(6, recorded.Count); // the dense model and two variants per cell
        Assert.All(recorded, r => Assert.Equal((RunStatus.Completed, RunCommand.Kind, "g"), (r.Summary.Status, r.Summary.Kind, r.Summary.Group)));
        foreach (var (cell, identity) in cells.Zip(identities))
        {
            double sparsity = double.Parse(cell.GetProperty("overrides").GetProperty("sparsity").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var rows = recorded.Where(r => r.Summary.Name == identity).ToList();
            Assert.Equal(["dense", "global", "local"], rows.Select(r => r.Parameters["variant"]).Order());
            // The grid's stage key reached both variants: each row's model has the cell's sparsity in its pruned weights.
            foreach (var row in rows.Where(r => r.Parameters["variant"] != "dense"))
            {
                Assert.Equal(sparsity, row.Summary.TargetSparsity!.Value, 3);
                Assert.Equal(sparsity, row.Summary.Metrics[MetricNames.Sparsity], 3);
            }
            var dense = rows.Single(r => r.Parameters["variant"] == "dense");
            Assert.Equal(("dense", "dense (no pruning)", 0.0), (dense.Summary.Method, dense.Parameters["label"], dense.Summary.Metrics[MetricNames.Sparsity]));
            Assert.Equal(File.ReadAllText(folder.File("study.yaml")), dense.Recipe);
            // The cell's own folder holds its models, its store of exactly its table and its report.
            string own = Path.Combine(output, identity);
            Assert.True(File.Exists(Path.Combine(own, "report.html")));
            using var table = RunStores.OpenExisting(Path.Combine(own, "runs.db"));
            Assert.Equal(3, table.ListRuns().Count);
        }

        // Run again: every cell has completed runs under its identity, so nothing runs and nothing more is recorded.
        (code, text, error) = Invoke(sweep);
        Assert.True(code == 0, error + text);
        Assert.All(JsonDocument.Parse(text).RootElement.GetProperty("cells").EnumerateArray(), c => Assert.Equal("skipped", c.GetProperty("status").GetString()));
        Assert.Equal(6, Recorded().Count);

        // The folder's own store is made afresh on every run: it cannot be the run's store too.
        Directory.CreateDirectory(folder.File("out", "study"));
        (code, _, error) = Invoke("run", folder.File("study.yaml"), "--store", folder.File("out", "study", "runs.db"));
        Assert.NotEqual(0, code);
        Assert.True(error.Contains("is the comparison's own", StringComparison.Ordinal), error);

        // A study that fails on the way (3:8 groups do not divide lenet-300-100's 300 inputs) ends its run failed with the error.
        string[] broken = ["--set", "granularity=3:8", "--set", "strict=true", "--set", $"comparison.folder={folder.File("broken")}"];
        (code, _, error) = Invoke(["run", folder.File("study.yaml"), .. broken, "--store", store, "--group", "broken"]);
        Assert.NotEqual(0, code);
        var failed = Assert.Single(Recorded(), r => r.Summary.Group == "broken");
        Assert.Equal((RunStatus.Failed, "dense"), (failed.Summary.Status, failed.Summary.Method));
        Assert.Equal(Recipe.Load(folder.File("study.yaml"), broken.Where((_, i) => i % 2 == 1).Select(RecipeOverride.Parse)).Identity, failed.Summary.Name);
        Assert.False(string.IsNullOrEmpty(failed.Summary.Error));
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void A_comparison_that_fails_while_its_rows_are_recorded_leaves_no_completed_row_and_records_them_all_when_run_again()
    {
        using var folder = new TempFolder();
        WriteTinyStudy(folder);
        string store = folder.File("runs.db");
        string identity = Recipe.Load(folder.File("study.yaml")).Identity;
        using (RunStores.Open(store)) { }
        void Sql(string statement)
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = statement;
            command.ExecuteNonQuery();
        }
        List<RunRecord> Completed()
        {
            using var runs = RunStores.OpenExisting(store);
            return runs.ListRuns(new RunFilter { Status = RunStatus.Completed }).Select(r => runs.GetRun(r.Id)).ToList();
        }

        // The store fails after the first variant's row was written, before the second's (as a process killed there would stop).
        Sql("CREATE TRIGGER injected BEFORE INSERT ON run_parameters WHEN NEW.name = 'variant' AND NEW.value = 'local' BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
        var (code, _, error) = Invoke("run", folder.File("study.yaml"), "--store", store);
        Assert.NotEqual(0, code);
        Assert.Contains("injected failure", error);
        // No row is completed, so a sweep (which skips a cell with a completed run under its identity) runs the cell again.
        Assert.Empty(Completed());

        Sql("DROP TRIGGER injected");
        (code, _, error) = Invoke("run", folder.File("study.yaml"), "--store", store);
        Assert.True(code == 0, error);
        var rows = Completed();
        Assert.All(rows, r => Assert.Equal(identity, r.Summary.Name));
        Assert.Equal(["dense", "global", "local"], rows.Select(r => r.Parameters["variant"]).Order());
    }
}
