using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp lth</c>: a Lottery Ticket experiment (iterative magnitude pruning with rewinding), resumable.</summary>
static class LthCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A zoo classifier.", DefaultValueFactory = _ => "lenet-300-100" };
        var data = new Option<string>("--data") { Description = CliInputs.DataHelp, DefaultValueFactory = _ => "fashion-mnist" };
        var rounds = new Option<int>("--rounds") { Description = "Pruning rounds after the dense run.", DefaultValueFactory = _ => 15 };
        var rate = new Option<double>("--rate") { Description = "Fraction of the surviving weights pruned per round.", DefaultValueFactory = _ => 0.2 };
        var rewind = new Option<string>("--rewind") { Description = "Rewind point: 0 (initialisation), K (optimizer steps) or Ke (epochs, e.g. 1e).", DefaultValueFactory = _ => "0" };
        var retrain = new Option<string>("--retrain") { Description = "weights (rewind weights and schedule), lr (learning-rate rewinding: keep weights, rewind the schedule) or finetune.", DefaultValueFactory = _ => "weights" };
        var variants = new Option<string>("--variants") { Description = "Comma-separated: ticket, reinit (random re-initialisation), random (random masks, same per-layer densities).", DefaultValueFactory = _ => "ticket" };
        var scope = new Option<string>("--scope") { Description = "global or local magnitude ranking.", DefaultValueFactory = _ => "global" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs of every run.", DefaultValueFactory = _ => 5 };
        var output = new Option<string>("--out") { Description = "Experiment folder (results, masks and weights of every round; re-running resumes).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var restart = new Option<bool>("--restart") { Description = "Delete the results an earlier run stored in --out and start afresh (a folder made under other settings is otherwise refused)." };
        var flags = new TrainingFlags();
        var normalize = new PreprocessingFlags(canEmbed: false).Normalize;
        var command = new Command("lth",
            "Lottery Ticket experiment: train, prune p% of the survivors by magnitude, rewind, retrain, repeat; with controls.\n" +
            "Example: prunesharp lth --model lenet-300-100 --data fashion-mnist --rounds 10 --rate 0.2 --epochs 3 --variants ticket,random --out lth-lenet")
        {
            model, data, normalize, rounds, rate, rewind, retrain, variants, scope, epochs, output, json, restart,
        };
        foreach (var option in flags.All) command.Options.Add(option);
        var store = new StoreFlags();
        foreach (var option in store.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var description = new LotteryTicketDescription(parse.GetValue(model)!, new DataDescription(parse.GetValue(data)!, Normalize: parse.GetValue(normalize), Augment: flags.AugmentSpec(parse)),
                Path.GetFullPath(parse.GetValue(output)!), flags.Description(parse, parse.GetValue(epochs)),
                parse.GetValue(rounds), parse.GetValue(rate), parse.GetValue(rewind)!, parse.GetValue(retrain)!,
                parse.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), parse.GetValue(scope)!,
                parse.GetValue(flags.Seed))
            {
                // Every option but those that only extend the experiment (rounds, variants) or say where and how it is shown.
                Identity = OptionValues.Of(parse, "--out", "--json", "--restart", "--rounds", "--variants").ToDictionary(),
                Restart = parse.GetValue(restart),
            };
            using var runs = store.Open(parse);
            var recording = runs is null ? null : new PipelineRecording(runs, RunRecording.Describe(parse, "lth", LotteryTicketPipeline.Method(description)));
            var result = FlagNames.Translate(() => TrainCommand.WithCtrlC(token => LotteryTicketPipeline.Run(description, Verbosity.Progress, token, recording)), Fields);
            Render(result, parse.GetValue(json));
        });
        return command;
    }

    /// <summary>The rounds as a table (one column per variant) with where the results went, or as JSON.</summary>
    public static void Render(LotteryTicketRunResult result, bool json)
    {
        string plot = result.Plot is { } drawn ? $"plot {drawn}" : result.PlotNote!;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                folder = result.Folder, table = result.Table, plot,
                results = result.Results.Select(r => new { round = r.Round, variant = r.Variant.ToString().ToLowerInvariant(), density = r.Density, top1 = r.Test.Top1, reused = r.Reused }),
            }, Table.Json));
            return;
        }
        var kinds = result.Variants;
        var rows = result.Results.GroupBy(r => r.Round).Select(g => (IReadOnlyList<string>)new[] { g.Key.ToString(CultureInfo.InvariantCulture), PruneCommand.Percent(g.First().Density) }
            .Concat(kinds.Select(k => g.FirstOrDefault(r => r.Variant == k) is { } r ? PruneCommand.Percent(r.Test.Top1) : "")).ToList());
        Table.Write(Console.Out, new[] { "round", "density" }.Concat(kinds.Select(k => k.ToString().ToLowerInvariant())).ToList(), rows);
        Console.WriteLine();
        Console.WriteLine($"table {result.Table}; masks per round in {result.Folder}/round-NN/masks.safetensors");
        Console.WriteLine(plot);
    }

    /// <summary>The flags that set each field of the experiment the verb describes (the library names the fields in its errors).</summary>
    static readonly (string Field, string Flag)[] Fields =
    {
        ("lottery.variants", "--variants"), ("lottery.retrain", "--retrain"), ("lottery.scope", "--scope"), ("lottery.rate", "--rate"), ("lottery.rounds", "--rounds"),
        ("lottery.rewind", "--rewind"), ("lottery.folder", "--out"), ("model", "--model"), ("data.source", "--data"), ("data.normalize", "--normalize"), ("data.augment", "--augment"),
        ("recovery.epochs", "--epochs"), ("recovery.batch_size", "--batch-size"), ("recovery.optimizer", "--optimizer"), ("recovery.lr_schedule", "--schedule"),
        ("recovery.lr", "--lr"), ("recovery.threads", "--threads"),
    };
}
