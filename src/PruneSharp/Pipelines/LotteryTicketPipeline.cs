using System.Globalization;
using PruneSharp.Data;
using PruneSharp.Metrics;
using PruneSharp.Models;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Methods;
using PruneSharp.Reporting;
using PruneSharp.Runs;

namespace PruneSharp.Pipelines;

/// <summary>
/// A Lottery Ticket experiment as data (Frankle &amp; Carbin 2019): train a zoo classifier, prune a fraction of the
/// surviving weights by magnitude, rewind, retrain, repeat, with controls; what <c>lth</c>'s flags and a recipe's
/// <c>lottery</c> section describe.
/// </summary>
/// <param name="Model">A zoo classifier (re-created from seeds for every run).</param>
/// <param name="Data">The labelled data (its source, the first examples used, normalisation, augmentation; no resizing).</param>
/// <param name="Folder">The experiment folder: results, masks and weights of every round; running again resumes.</param>
/// <param name="Training">How every run trains (its <see cref="RecoveryDescription.Epochs"/> at least 1).</param>
/// <param name="Rounds">Pruning rounds after the dense run.</param>
/// <param name="Rate">Fraction of the surviving weights pruned per round, in (0, 1).</param>
/// <param name="Rewind">Rewind point: 0 (initialisation), K (optimizer steps) or Ke (epochs).</param>
/// <param name="Retrain">weights (rewind weights and schedule), lr (keep the weights, rewind the schedule) or finetune.</param>
/// <param name="Variants">ticket, reinit (random re-initialisation), random (random masks of the same per-layer densities); the ticket always runs.</param>
/// <param name="Scope">global or local magnitude ranking.</param>
/// <param name="Seed">Seed of initialisation and batch order.</param>
public sealed record LotteryTicketDescription(string Model, DataDescription Data, string Folder, RecoveryDescription Training, int Rounds = 15, double Rate = 0.2,
    string Rewind = "0", string Retrain = "weights", IReadOnlyList<string>? Variants = null, string Scope = "global", long Seed = 0)
{
    /// <summary>Further settings that make rounds comparable (an experiment folder resumes only runs with the same); the description's own are added.</summary>
    public IReadOnlyDictionary<string, string> Identity { get; init; } = new Dictionary<string, string>();

    /// <summary>Delete the results an earlier run stored in <see cref="Folder"/> and start afresh.</summary>
    public bool Restart { get; init; }
}

/// <summary>What a Lottery Ticket experiment gave.</summary>
/// <param name="Results">Every round's test metrics per variant (round 0: the dense network).</param>
/// <param name="Variants">The variants run, the ticket first.</param>
/// <param name="Folder">The experiment folder.</param>
/// <param name="Table">The CSV file of the results.</param>
/// <param name="Plot">The accuracy-against-density plot (null when it could not be drawn).</param>
/// <param name="PlotNote">Why there is no plot (null when there is one).</param>
public sealed record LotteryTicketRunResult(IReadOnlyList<LotteryTicketResult> Results, IReadOnlyList<TicketVariant> Variants, string Folder, string Table,
    string? Plot, string? PlotNote);

/// <summary>
/// Runs a <see cref="LotteryTicketDescription"/>: checks it, loads the data, runs the resumable
/// <see cref="LotteryTicketExperiment"/>, draws accuracy against density, and records the run (one step per round:
/// its density, the ticket's accuracy as <c>accuracy</c>, each control's as <c>accuracy.VARIANT</c>).
/// </summary>
public static class LotteryTicketPipeline
{
    /// <summary>The method a run of <paramref name="d"/> is recorded under: lth/RETRAIN/SCOPE.</summary>
    public static string Method(LotteryTicketDescription d) => $"lth/{d.Retrain}/{d.Scope}";

    /// <summary>Runs <paramref name="description"/>.</summary>
    /// <param name="description">The experiment.</param>
    /// <param name="progress">Where progress goes (training runs are labelled "train").</param>
    /// <param name="cancellation">Stops training between batches with <see cref="OperationCanceledException"/>; the finished rounds are kept.</param>
    /// <param name="recording">Where the run is recorded (null: nowhere).</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names the field.</exception>
    public static LotteryTicketRunResult Run(LotteryTicketDescription description, PipelineProgress? progress = null, CancellationToken cancellation = default,
        PipelineRecording? recording = null) =>
        PipelineRecording.Record(recording, recorder => Execute(description, progress ?? PipelineProgress.None, recorder, cancellation), Outcome);

    /// <summary>The variants <paramref name="d"/> runs, the ticket first.</summary>
    static List<TicketVariant> Variants(LotteryTicketDescription d) => (d.Variants ?? Array.Empty<string>())
        .Select(v => Enum.TryParse<TicketVariant>(v, ignoreCase: true, out var kind) ? kind
            : throw new ArgumentException($"lottery.variants: '{v}' is not one of ticket, reinit, random"))
        .Prepend(TicketVariant.Ticket).Distinct().ToList();

    /// <summary>How <paramref name="d"/> retrains after each pruning round.</summary>
    static RetrainMode Mode(LotteryTicketDescription d) => d.Retrain.ToLowerInvariant() switch
    {
        "weights" => RetrainMode.WeightRewinding,
        "lr" => RetrainMode.LearningRateRewinding,
        "finetune" => RetrainMode.FineTuning,
        var other => throw new ArgumentException($"lottery.retrain '{other}' is not one of weights, lr, finetune"),
    };

    /// <summary>
    /// Every problem of <paramref name="d"/> that shows without loading data or a model, each naming its field as a
    /// recipe writes it (<c>lottery.rate</c>, <c>recovery.epochs</c>, ...), with the nearest valid names for a mistyped one.
    /// </summary>
    public static IReadOnlyList<PipelineProblem> Validate(LotteryTicketDescription d)
    {
        var problems = new ProblemList();
        void Check(string field, Action check, IEnumerable<string>? names = null, string? given = null) => problems.Check(field, check, names, given);
        void Require(string field, bool ok, string message) => problems.Require(field, ok, message);

        Require("model", ModelZoo.IsClassifier(d.Model),
            $"model '{d.Model}' is not a zoo classifier; a Lottery Ticket experiment re-creates the model from seeds ({string.Join(", ", ModelZoo.ClassifierNames)})");
        if (problems.Count > 0 && !d.Model.Contains('/')) problems[^1] = problems[^1] with { Suggestions = NearestNames.Find(d.Model, ModelZoo.ClassifierNames) };
        // The data's checks are the pipeline's (a known data set or folder, positive counts, normalisation, augmentation); sizes do not apply.
        foreach (var problem in Pipeline.Validate(new PipelineDescription(d.Model, d.Data, [new StageDescription("magnitude", 0)], d.Training, null, d.Seed)))
            if (problem.Field.StartsWith("data.", StringComparison.Ordinal) || problem.Field.StartsWith("recovery.", StringComparison.Ordinal)) problems.Add(problem);
        foreach (var (key, set) in new[] { ("resize", d.Data.Resize is not null), ("crop", d.Data.Crop is not null) })
            Require($"data.{key}", !set, $"data.{key} does not apply to a Lottery Ticket experiment (IDX or CIFAR data, fed at their stored size)");
        Require("recovery.kind", d.Training.Kind == "finetune", $"recovery.kind {d.Training.Kind}: a Lottery Ticket experiment trains on labels (finetune)");
        Require("recovery.epochs", d.Training.Epochs >= 1, $"recovery.epochs must be at least 1 (every run trains), got {d.Training.Epochs}");
        Require("lottery.rate", d.Rate is > 0 and < 1, $"lottery.rate must be in (0, 1), got {d.Rate.ToString(CultureInfo.InvariantCulture)}");
        Require("lottery.rounds", d.Rounds >= 0, $"lottery.rounds must be non-negative, got {d.Rounds}");
        Check("lottery.rewind", () => RewindStep(d.Rewind, 1));
        Check("lottery.retrain", () => Mode(d), new[] { "weights", "lr", "finetune" }, d.Retrain);
        Check("lottery.variants", () => Variants(d), new[] { "ticket", "reinit", "random" }, d.Variants?.FirstOrDefault(v => !Enum.TryParse<TicketVariant>(v, true, out _)));
        Check("lottery.scope", () => PruningParts.Allocation(d.Scope, "lottery.scope"), new[] { "global", "local" }, d.Scope);
        Require("lottery.folder", d.Folder.Length > 0, "lottery.folder is required (where the rounds' results, masks and weights go)");
        return problems;
    }

    static LotteryTicketRunResult Execute(LotteryTicketDescription d, PipelineProgress progress, RunRecorder? recorder, CancellationToken cancellation)
    {
        if (Validate(d) is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems.Select(p => p.ToString())));
        var variants = Variants(d);
        var allocation = PruningParts.Allocation(d.Scope, "lottery.scope");
        var full = Sources.LoadData(d.Data.Source, DataSplit.Train, field: "data.source");
        full.Augmentation = d.Data.Augment is { } augment ? Augmentation.Parse(augment, "data.augment") : null;
        var test = Sources.LoadData(d.Data.Source, DataSplit.Test, field: "data.source");
        // What the runs are fed, as a training run feeds its model: data.normalize, else none (a zoo model has no metadata).
        Preprocessing fed;
        using (var probe = Sources.LoadModel(d.Model, full, d.Seed, field: "model"))
            fed = Pipeline.Input(d.Model, d.Data, null, null, probe);
        foreach (var set in new[] { full, test }) set.Normalization = fed.Fed ?? Normalization.None(set.Channels);
        IDataset train = d.Data.TrainExamples is { } n ? Subset.First(full, n) : full;
        var training = Pipeline.FineTune(d.Training, d.Seed, train.Count);
        long step = RewindStep(d.Rewind, (train.Count + training.BatchSize - 1) / training.BatchSize);
        var experiment = new LotteryTicketExperiment(seed => Sources.LoadModel(d.Model, full, seed, field: "model"), new LotteryTicketOptions
        {
            Rounds = d.Rounds, Rate = d.Rate, RewindStep = step, Retrain = Mode(d), Variants = variants,
            Scope = new PruningScope { Allocation = allocation }, Training = training, Identity = d.Identity,
        }, train, d.Data.TestExamples is { } m ? Subset.First(test, m) : test, d.Folder)
        {
            Restart = d.Restart,
            Progress = progress.For("train"),
            Log = progress.Status,
        };
        var results = experiment.Run(cancellation);
        string plot = Path.Combine(experiment.Folder, "accuracy.png");
        bool drawn = Plot(results, variants, plot);
        foreach (var round in results.GroupBy(r => r.Round).OrderBy(g => g.Key))
        {
            var metrics = round.ToDictionary(
                r => r.Variant == TicketVariant.Ticket ? MetricNames.Accuracy : $"{MetricNames.Accuracy}.{r.Variant.ToString().ToLowerInvariant()}", r => r.Test.Top1);
            metrics[MetricNames.Density] = round.First().Density;
            recorder?.Step(round.Key, metrics);
        }
        return new LotteryTicketRunResult(results, variants, experiment.Folder, experiment.TablePath, drawn ? plot : null,
            drawn ? null : "plot skipped: no TrueType font for its labels (install fonts-dejavu-core)");
    }

    /// <summary>The last round of the ticket as the run's outcome, with the dense accuracy, the table and the plot.</summary>
    static RunOutcome Outcome(LotteryTicketRunResult result)
    {
        var dense = result.Results.FirstOrDefault(r => r.Round == 0);
        var last = result.Results.Where(r => r.Variant == TicketVariant.Ticket).MaxBy(r => r.Round);
        return RunMetrics.Outcome([
            new(MetricNames.Accuracy, last?.Test.Top1), new(MetricNames.Loss, last?.Test.Loss), new(MetricNames.DenseAccuracy, dense?.Test.Top1),
            new(MetricNames.Density, last?.Density), new(MetricNames.Sparsity, 1 - last?.Density),
        ], null, [("table", result.Table), .. result.Plot is { } plot ? new[] { ("plot", plot) } : []]);
    }

    /// <summary>Draws test accuracy against density at <paramref name="path"/>, one line per variant (all start at the dense network); false without a font.</summary>
    static bool Plot(IReadOnlyList<LotteryTicketResult> results, IReadOnlyList<TicketVariant> kinds, string path)
    {
        if (!LinePlot.CanRender) return false;
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
        return true;
    }

    /// <summary>The rewind point in optimizer steps: K, or Ke epochs of <paramref name="batchesPerEpoch"/>.</summary>
    static long RewindStep(string text, int batchesPerEpoch)
    {
        bool epochs = text.EndsWith('e');
        if (!long.TryParse(epochs ? text[..^1] : text, NumberStyles.None, CultureInfo.InvariantCulture, out long k))
            throw new ArgumentException($"lottery.rewind '{text}' is not a step count (K) or an epoch count (Ke)");
        return epochs ? k * batchesPerEpoch : k;
    }
}
