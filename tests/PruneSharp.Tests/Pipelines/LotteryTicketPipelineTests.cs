using System.CommandLine;
using PruneSharp.Cli.Commands;
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
        var description = new LotteryTicketDescription("lenet-300-100", data, folder.File("lth"), new RecoveryDescription(Epochs: 1, BatchSize: 16),
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
}
