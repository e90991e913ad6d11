using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Models;
using PruneSharp.Pipelines;
using PruneSharp.Reporting;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Methods;
using PruneSharp.Runs;

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
        var command = new Command("lth",
            "Lottery Ticket experiment: train, prune p% of the survivors by magnitude, rewind, retrain, repeat; with controls.\n" +
            "Example: prunesharp lth --model lenet-300-100 --data fashion-mnist --rounds 10 --rate 0.2 --epochs 3 --variants ticket,random --out lth-lenet")
        {
            model, data, rounds, rate, rewind, retrain, variants, scope, epochs, output, json, restart,
        };
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var kinds = parse.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(v => Enum.TryParse<TicketVariant>(v, ignoreCase: true, out var kind) ? kind
                    : throw new ArgumentException($"--variants: '{v}' is not one of ticket, reinit, random")).Prepend(TicketVariant.Ticket).Distinct().ToList();
            var mode = parse.GetValue(retrain)!.ToLowerInvariant() switch
            {
                "weights" => RetrainMode.WeightRewinding,
                "lr" => RetrainMode.LearningRateRewinding,
                "finetune" => RetrainMode.FineTuning,
                var other => throw new ArgumentException($"--retrain '{other}' is not one of weights, lr, finetune"),
            };
            var allocation = PruningParts.Allocation(parse.GetValue(scope)!);
            if (!(parse.GetValue(rate) is > 0 and < 1)) throw new ArgumentException($"--rate must be in (0, 1), got {parse.GetValue(rate)}");
            if (parse.GetValue(rounds) < 0) throw new ArgumentException($"--rounds must be non-negative, got {parse.GetValue(rounds)}");
            string name = parse.GetValue(model)!;
            if (!ModelZoo.IsClassifier(name))
                throw new ArgumentException($"--model '{name}' is not a zoo classifier; lth re-creates the model from seeds ({string.Join(", ", ModelZoo.ClassifierNames)})");
            var train = flags.TrainingData(parse, parse.GetValue(data)!);
            var test = CliInputs.LoadData(parse.GetValue(data)!, DataSplit.Test);
            var training = flags.Options(parse, parse.GetValue(epochs), train.Count);
            long step = RewindStep(parse.GetValue(rewind)!, (train.Count + training.BatchSize - 1) / training.BatchSize);
            var experiment = new LotteryTicketExperiment(seed => CliInputs.LoadModel(name, train, seed), new LotteryTicketOptions
            {
                Rounds = parse.GetValue(rounds), Rate = parse.GetValue(rate), RewindStep = step, Retrain = mode, Variants = kinds,
                Scope = new PruningScope { Allocation = allocation }, Training = training,
                // Every option but those that only extend the experiment (rounds, variants) or say where and how it is shown.
                Identity = OptionValues.Of(parse, "--out", "--json", "--restart", "--rounds", "--variants").ToDictionary(),
            }, train, test, parse.GetValue(output)!)
            {
                Restart = parse.GetValue(restart),
                Progress = new ProgressBar("train"),
                Log = Verbosity.Progress.Status,
            };
            var results = TrainCommand.WithCtrlC(experiment.Run);
            string plot = Plot(results, kinds, Path.Combine(experiment.Folder, "accuracy.png"));
            Record(results, experiment.TablePath, Path.Combine(experiment.Folder, "accuracy.png"));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    folder = experiment.Folder, table = experiment.TablePath, plot,
                    results = results.Select(r => new { round = r.Round, variant = r.Variant.ToString().ToLowerInvariant(), density = r.Density, top1 = r.Test.Top1, reused = r.Reused }),
                }, Table.Json));
                return;
            }
            var rows = results.GroupBy(r => r.Round).Select(g => (IReadOnlyList<string>)new[] { g.Key.ToString(CultureInfo.InvariantCulture), PruneCommand.Percent(g.First().Density) }
                .Concat(kinds.Select(k => g.FirstOrDefault(r => r.Variant == k) is { } r ? PruneCommand.Percent(r.Test.Top1) : "")).ToList());
            Table.Write(Console.Out, new[] { "round", "density" }.Concat(kinds.Select(k => k.ToString().ToLowerInvariant())).ToList(), rows);
            Console.WriteLine();
            Console.WriteLine($"table {experiment.TablePath}; masks per round in {experiment.Folder}/round-NN/masks.safetensors");
            Console.WriteLine(plot);
        });
        RunRecording.Attach(command, "lth", parse => $"lth/{parse.GetValue(retrain)}/{parse.GetValue(scope)}", trainingSteps: false);
        return command;
    }

    /// <summary>
    /// Hands the rounds to the run store as steps (step = round; the density, the ticket's test accuracy as
    /// <c>accuracy</c> and each control's as <c>accuracy.VARIANT</c>) and the last round as the outcome.
    /// </summary>
    static void Record(IReadOnlyList<LotteryTicketResult> results, string table, string plot)
    {
        foreach (var round in results.GroupBy(r => r.Round).OrderBy(g => g.Key))
        {
            var metrics = round.ToDictionary(
                r => r.Variant == TicketVariant.Ticket ? MetricNames.Accuracy : $"{MetricNames.Accuracy}.{r.Variant.ToString().ToLowerInvariant()}", r => r.Test.Top1);
            metrics[MetricNames.Density] = round.First().Density;
            RunRecording.Step(round.Key, metrics);
        }
        var dense = results.FirstOrDefault(r => r.Round == 0);
        var last = results.Where(r => r.Variant == TicketVariant.Ticket).MaxBy(r => r.Round);
        RunRecording.Finish([
            new(MetricNames.Accuracy, last?.Test.Top1), new(MetricNames.Loss, last?.Test.Loss), new(MetricNames.DenseAccuracy, dense?.Test.Top1),
            new(MetricNames.Density, last?.Density), new(MetricNames.Sparsity, 1 - last?.Density),
        ], null, ("table", table), ("plot", plot));
    }

    /// <summary>Draws test accuracy against density, one line per variant (all start at the dense network); returns a status line.</summary>
    static string Plot(IReadOnlyList<LotteryTicketResult> results, IReadOnlyList<TicketVariant> kinds, string path)
    {
        if (!LinePlot.CanRender) return "plot skipped: no TrueType font for its labels (install fonts-dejavu-core)";
        var dense = results.Where(r => r.Round == 0).Take(1).ToList();
        var plot = new LinePlot
        {
            Title = "Lottery Ticket: test accuracy vs. density",
            XLabel = "density (% of weights remaining, log scale)",
            YLabel = "top-1 test accuracy (%)",
            LogX = true,
            ReverseX = true,
            Series = kinds.Select(k => new PlotSeries(k.ToString().ToLowerInvariant(),
                dense.Concat(results.Where(r => r.Round > 0 && r.Variant == k)).OrderByDescending(r => r.Density)
                    .Select(r => (100 * r.Density, 100 * r.Test.Top1)).ToList())).ToList(),
        };
        plot.Save(path);
        return $"plot {path}";
    }

    static long RewindStep(string text, int batchesPerEpoch)
    {
        bool epochs = text.EndsWith('e');
        if (!long.TryParse(epochs ? text[..^1] : text, NumberStyles.None, CultureInfo.InvariantCulture, out long k))
            throw new ArgumentException($"--rewind '{text}' is not a step count (K) or an epoch count (Ke)");
        return epochs ? k * batchesPerEpoch : k;
    }
}
