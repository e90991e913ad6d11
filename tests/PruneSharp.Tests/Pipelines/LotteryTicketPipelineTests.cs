using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Recipes;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Methods;
using PruneSharp.Runs;
using PruneSharp.Tests.Cli;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Pipelines;

/// <summary>
/// A Lottery Ticket experiment run by the library's <see cref="LotteryTicketPipeline"/> records itself: one step per
/// round with its density and each variant's accuracy, the last ticket as the outcome, the table and plot as files;
/// the <c>lth</c> verb only parses and renders, recording the same run.
/// </summary>
[Collection(SerialCollection.Name)]
public class LotteryTicketPipelineTests
{
    [Fact]
    public void The_experiment_records_every_round_and_its_last_ticket_as_the_library_ran_them()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, count: 32);
        var description = new LotteryTicketDescription("lenet-300-100", new DataDescription(data), folder.File("lth"), new RecoveryDescription(Epochs: 1, BatchSize: 16),
            Rounds: 2, Variants: ["random"]);
        LotteryTicketRunResult result;
        using (var store = RunStores.Open(folder.File("runs.db")))
            result = LotteryTicketPipeline.Run(description, recording: new PipelineRecording(store, new RunStart { Kind = "lth", Method = LotteryTicketPipeline.Method(description) }));

        Assert.Equal([TicketVariant.Ticket, TicketVariant.Random], result.Variants);
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        Assert.Equal((RunStatus.Completed, "lth/weights/global"), (run.Summary.Status, run.Summary.Method));
        // One step per round, each the round's density and accuracies exactly as the experiment measured them.
        foreach (var round in result.Results.GroupBy(r => r.Round))
        {
            var steps = run.Steps.Where(s => s.Step == round.Key).ToDictionary(s => s.Name, s => s.Value);
            Assert.Equal(round.First().Density, steps[MetricNames.Density]);
            foreach (var r in round)
                Assert.Equal(r.Test.Top1, steps[r.Variant == TicketVariant.Ticket ? MetricNames.Accuracy : "accuracy.random"]);
        }
        Assert.Equal([0L, 1, 2], run.Steps.Select(s => s.Step).Distinct().Order());
        var last = result.Results.Single(r => r.Round == 2 && r.Variant == TicketVariant.Ticket);
        Assert.Equal(last.Test.Top1, run.Summary.Metrics[MetricNames.Accuracy]);
        Assert.Equal(1 - last.Density, run.Summary.Metrics[MetricNames.Sparsity], 12);
        Assert.True(last.Density < 0.7, $"two rounds at rate 0.2 leave about 64% of the weights, got {last.Density}");
        var table = Assert.Single(run.Artifacts, a => a.Role == "table");
        Assert.Equal(RunArtifact.FromFile("table", result.Table).Sha256, table.Sha256);
    }

    [Fact]
    public void The_lth_verb_runs_the_library_pipeline_and_records_it_as_an_lth_run()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, count: 32);
        var (code, output, error) = CliInvocation.Run(new RootCommand("test") { LthCommand.Create() },
            ["lth", "--model", "lenet-300-100", "--data", data, "--rounds", "1", "--epochs", "1", "--batch-size", "16", "--scope", "local",
            "--out", folder.File("lth"), "--store", folder.File("runs.db")]);
        Assert.True(code == 0, error);
        Assert.Contains("masks per round in", output);
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        Assert.Equal((RunStatus.Completed, "lth", "lth/weights/local"), (run.Summary.Status, run.Summary.Kind, run.Summary.Method));
        Assert.Equal("1", run.Parameters["--rounds"]);
        Assert.Equal([0L, 1], run.Steps.Select(s => s.Step).Distinct().Order());

        (code, _, error) = CliInvocation.Run(new RootCommand("test") { LthCommand.Create() },
            ["lth", "--data", data, "--rewind", "x", "--out", folder.File("bad"), "--store", folder.File("runs.db")]);
        Assert.Equal(1, code);
        Assert.Contains("--rewind 'x' is not a step count", error);
    }

    [Fact]
    public void Normalize_as_a_flag_and_in_a_recipe_feeds_the_same_inputs_and_gives_the_same_rounds_and_normalising_changes_them()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, count: 32);
        (string Results, string TrainHash, byte[] Weights) Run(string experiment, params string[] args)
        {
            var (code, output, error) = CliInvocation.Run(new RootCommand("test") { LthCommand.Create(), RunCommand.Create() }, args);
            Assert.True(code == 0, error);
            // The hash of the training inputs as the runs were fed them (the experiment's fingerprint), and the last round's trained weights.
            var fingerprint = JsonDocument.Parse(File.ReadAllText(Path.Combine(experiment, "fingerprint.json"))).RootElement;
            return (JsonDocument.Parse(output).RootElement.GetProperty("results").ToString(), fingerprint.GetProperty("data.train").GetString()!,
                File.ReadAllBytes(Path.Combine(experiment, "round-01", "weights.bin")));
        }
        string[] common = ["--rounds", "1", "--epochs", "1", "--batch-size", "16", "--json"];
        var flags = Run(folder.File("flags"), ["lth", "--model", "lenet-300-100", "--data", data, "--normalize", "0.5/0.25", "--out", folder.File("flags"), "--no-store", .. common]);
        File.WriteAllText(folder.File("lth.yaml"), $$"""
            model: lenet-300-100
            data: {source: '{{data}}', normalize: 0.5/0.25}
            recovery: {epochs: 1, batch_size: 16}
            lottery: {rounds: 1, folder: recipe}
            """);
        var recipe = Run(folder.File("recipe"), "run", folder.File("lth.yaml"), "--set", $"lottery.folder={folder.File("recipe")}", "--json", "--no-store");
        var plain = Run(folder.File("plain"), ["lth", "--model", "lenet-300-100", "--data", data, "--out", folder.File("plain"), "--no-store", .. common]);

        Assert.Equal(flags.Results, recipe.Results);
        Assert.Equal(flags.TrainHash, recipe.TrainHash);
        Assert.Equal(flags.Weights, recipe.Weights);
        // Normalised, the runs see other inputs, and train other weights from the same initialisation and batches.
        Assert.NotEqual(plain.TrainHash, flags.TrainHash);
        Assert.NotEqual(plain.Weights, flags.Weights);

        var bad = Assert.Throws<RecipeException>(() => Recipe.Parse("model: lenet-300-100\ndata: {source: fashion-mnist, normalize: 0.5, crop: 24}\nlottery: {folder: x}\n", "n.yaml"));
        Assert.Contains(bad.Problems, p => p.ToString().StartsWith("n.yaml:2:42: data.normalize", StringComparison.Ordinal));
        Assert.Contains(bad.Problems, p => p.ToString().Contains("data.crop does not apply to a Lottery Ticket experiment", StringComparison.Ordinal));
    }

    [Fact]
    public void Lottery_keys_are_checked_at_their_line_and_column_with_the_nearest_names()
    {
        const string text = """
            model: lenet-300-10
            data: {source: fashion-mnist}
            lottery:
              rounds: 2
              rate: 1.5
              retrain: weight
              variants: [ticket, lucky]
              folder: lth
            export: {path: x.onnx}
            """;
        var problems = Assert.Throws<RecipeException>(() => Recipe.Parse(text, "l.yaml")).Problems.Select(p => p.ToString()).ToList();
        void Reported(string expected) => Assert.Contains(problems, p => p.Contains(expected));
        Reported("l.yaml:1:8: model 'lenet-300-10' is not a zoo classifier");
        Reported("(did you mean lenet-300-100?)");
        Reported("l.yaml:5:9: lottery.rate must be in (0, 1), got 1.5");
        Reported("l.yaml:6:12: lottery.retrain 'weight' is not one of weights, lr, finetune (did you mean weights?)");
        Reported("lottery.variants: 'lucky' is not one of ticket, reinit, random");
        Reported("l.yaml:9:1: export does not apply to a Lottery Ticket recipe");
        Reported("recovery.epochs must be at least 1");
        Assert.Equal(6, problems.Count);
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void The_lottery_example_runs_its_rounds_with_the_random_control()
    {
        using var folder = new TempFolder();
        string recipe = Path.Combine(Repository.Root(), "examples", "lottery.yaml");
        var (code, text, error) = CliInvocation.Run(new RootCommand("test") { RunCommand.Create() },
            ["run", recipe, "--set", $"lottery.folder={folder.File("lth")}", "--json", "--no-store"]);
        Assert.True(code == 0, error);
        var results = JsonDocument.Parse(text).RootElement.GetProperty("results").EnumerateArray().ToList();
        var ticket = results.Where(r => r.GetProperty("variant").GetString() == "ticket").OrderBy(r => r.GetProperty("round").GetInt32()).ToList();
        Assert.Equal([0, 1, 2], ticket.Select(r => r.GetProperty("round").GetInt32()));
        // Each round removes a fifth of the surviving weights of the pruned layers: the density falls with every round.
        Assert.True(ticket[0].GetProperty("density").GetDouble() > ticket[1].GetProperty("density").GetDouble());
        Assert.True(ticket[1].GetProperty("density").GetDouble() > ticket[2].GetProperty("density").GetDouble());
        Assert.Equal(2, results.Count(r => r.GetProperty("variant").GetString() == "random"));
        Assert.True(File.Exists(Path.Combine(folder.File("lth"), "results.csv")));
    }
}
