using System.Globalization;
using System.Text;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Files;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Methods;

/// <summary>One trained network of a Lottery Ticket experiment.</summary>
/// <param name="Round">0 for the dense run, then 1, 2, ...</param>
/// <param name="Variant">What was trained.</param>
/// <param name="Density">Fraction of the prunable weights kept.</param>
/// <param name="Test">Test metrics after training.</param>
/// <param name="Reused">True if the result was read from the experiment folder rather than trained in this run.</param>
public sealed record LotteryTicketResult(int Round, TicketVariant Variant, double Density, ClassificationMetrics Test, bool Reused);

/// <summary>
/// Iterative magnitude pruning with rewinding (Frankle &amp; Carbin 2019, "The Lottery Ticket Hypothesis"): train the
/// dense network, then for each round prune p% of the surviving weights, reset the survivors (weight rewinding to
/// step k, learning-rate rewinding or fine-tuning, see <see cref="RetrainMode"/>) and train again; with the
/// random-reinitialisation and random-pruning controls at the same densities. Every finished network's result, the
/// ticket's masks and trained weights of every round are stored in the experiment folder (atomically), so a run that
/// is interrupted, or re-run with more rounds or variants, only trains what is missing.
/// </summary>
public sealed class LotteryTicketExperiment
{
    const string FingerprintFile = "fingerprint.json";
    /// <summary>The settings record of releases before the fingerprint (which named neither model nor data).</summary>
    const string OldSettingsFile = "experiment.txt";
    readonly Func<long, nn.Module<Tensor, Tensor>> _createModel;
    readonly IDataset _train, _test;

    /// <summary>Prepares an experiment stored in <paramref name="folder"/>.</summary>
    /// <param name="createModel">Builds the network with the given initialisation seed (the same seed must give the same weights).</param>
    /// <param name="options">The experiment's settings.</param>
    /// <param name="train">Training data.</param>
    /// <param name="test">Evaluation data.</param>
    /// <param name="folder">Where results, masks and weights are kept.</param>
    public LotteryTicketExperiment(Func<long, nn.Module<Tensor, Tensor>> createModel, LotteryTicketOptions options, IDataset train, IDataset test, string folder)
    {
        options.Validate();
        _createModel = createModel;
        Options = options;
        _train = train;
        _test = test;
        Folder = Path.GetFullPath(folder);
    }

    /// <summary>The settings.</summary>
    public LotteryTicketOptions Options { get; }

    /// <summary>The experiment folder.</summary>
    public string Folder { get; }

    /// <summary>Receives the progress of every training run.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Receives a line when a network starts training or a result is reused.</summary>
    public IProgress<string>? Log { get; set; }

    /// <summary>Start afresh: delete the state that earlier runs stored in the folder instead of resuming it.</summary>
    public bool Restart { get; init; }

    /// <summary>Training runs done by this instance (results read back from the folder do not count).</summary>
    public int TrainingRuns { get; private set; }

    /// <summary>Path of the ticket's masks after <paramref name="round"/> (a <see cref="MaskFile"/>).</summary>
    public string MaskPath(int round) => Path.Combine(RoundFolder(round), "masks.safetensors");

    /// <summary>Path of the results table written at the end of <see cref="Run"/> (CSV: round, density, then accuracy per variant).</summary>
    public string TablePath => Path.Combine(Folder, "results.csv");

    /// <summary>Runs (or resumes) the experiment and returns every result, dense run first.</summary>
    /// <exception cref="RunStateException">The folder holds an experiment with another fingerprint (the message names the differing keys), or an unreadable record.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; finished networks are kept in the folder.</exception>
    public IReadOnlyList<LotteryTicketResult> Run(CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(Folder);
        CheckSettings();
        var results = new List<LotteryTicketResult> { Dense(cancellation) };
        for (int round = 1; round <= Options.Rounds; round++)
        {
            results.Add(Ticket(round, cancellation));
            foreach (var variant in Options.Variants.Distinct().Where(v => v != TicketVariant.Ticket))
                results.Add(Control(round, variant, cancellation));
        }
        WriteTable(results);
        return results;
    }

    /// <summary>
    /// Records the experiment's fingerprint (settings, the model's initial weights' hash, the data's hashes) in a new
    /// folder, or checks it against the one recorded; with <see cref="Restart"/> the folder's stored state goes first.
    /// </summary>
    void CheckSettings()
    {
        if (Restart) RemoveState();
        if (File.Exists(Path.Combine(Folder, OldSettingsFile)) && !File.Exists(Path.Combine(Folder, FingerprintFile)))
            throw new RunStateException($"{Folder} holds an experiment recorded without the identity of its model and data; use another folder or start afresh (--restart)");
        RunFingerprint fingerprint;
        using (var model = _createModel(Options.Training.Seed))
            fingerprint = Options.Fingerprint().With("model.hash", RunFingerprint.Hash(model))
                .With("data.train", RunFingerprint.Hash(_train)).With("data.test", RunFingerprint.Hash(_test));
        fingerprint.RecordOrCheck(Path.Combine(Folder, FingerprintFile));
    }

    /// <summary>Deletes what earlier runs stored in the folder (fingerprint, results, masks, weights), nothing else.</summary>
    void RemoveState()
    {
        foreach (string file in new[] { FingerprintFile, OldSettingsFile, "rewind.bin", "results.csv", "accuracy.png" })
            File.Delete(Path.Combine(Folder, file));
        foreach (string round in Directory.EnumerateDirectories(Folder, "round-*"))
            if (System.Text.RegularExpressions.Regex.IsMatch(Path.GetFileName(round), @"^round-\d{2,}$")) Directory.Delete(round, recursive: true);
    }

    LotteryTicketResult Dense(CancellationToken cancellation)
    {
        if (Stored(0, TicketVariant.Ticket) is { } stored && File.Exists(WeightsPath(0)) && File.Exists(RewindPath)) return stored;
        Log?.Report("round 0: training the dense network");
        using var model = _createModel(Options.Training.Seed);
        using var trainer = new Trainer(model, Options.Training) { Progress = Progress };
        if (Options.RewindStep == 0) SaveWeights(model, RewindPath);
        else trainer.Callbacks.Add(new RewindCapture(Options.RewindStep, m => SaveWeights(m, RewindPath)));
        Fit(trainer, cancellation);
        if (!File.Exists(RewindPath))
            throw new ArgumentException($"the rewind step {Options.RewindStep} lies beyond the {trainer.Position.Step} steps of training");
        SaveWeights(model, WeightsPath(0));
        return Store(0, TicketVariant.Ticket, 1, Evaluator.Classify(model, _test, cancellation: cancellation));
    }

    LotteryTicketResult Ticket(int round, CancellationToken cancellation)
    {
        if (Stored(round, TicketVariant.Ticket) is { } stored && File.Exists(WeightsPath(round)) && File.Exists(MaskPath(round))) return stored;
        Log?.Report($"round {round}: pruning to density {Math.Pow(1 - Options.Rate, round):0.####} and retraining the ticket ({Options.Retrain})");
        using var model = _createModel(Options.Training.Seed);
        LoadWeights(model, WeightsPath(round - 1));
        using var masks = new MaskSet(model);
        if (round > 1) MaskFile.Load(masks, MaskPath(round - 1));
        var pruner = new Pruner(masks, Options.Criterion, new ElementGranularity(), Options.Scope);
        pruner.Prune(1 - Math.Pow(1 - Options.Rate, round));
        Directory.CreateDirectory(RoundFolder(round));
        MaskFile.Save(masks, MaskPath(round));
        if (Options.Retrain == RetrainMode.WeightRewinding) LoadWeights(model, RewindPath);
        Retrain(model, masks, round, cancellation);
        SaveWeights(model, WeightsPath(round));
        return Store(round, TicketVariant.Ticket, Density(masks, pruner.Scope), Evaluator.Classify(model, _test, cancellation: cancellation));
    }

    LotteryTicketResult Control(int round, TicketVariant variant, CancellationToken cancellation)
    {
        if (Stored(round, variant) is { } stored) return stored;
        Log?.Report($"round {round}: training the {variant.ToString().ToLowerInvariant()} control");
        using var ticket = _createModel(Options.Training.Seed);
        using var ticketMasks = new MaskSet(ticket);
        MaskFile.Load(ticketMasks, MaskPath(round));
        // The reinit control draws a fresh initialisation from a seed no ticket uses; the random control keeps the rewound weights.
        using var model = variant == TicketVariant.Reinit ? _createModel(Options.Training.Seed + 1_000_003L * round) : _createModel(Options.Training.Seed);
        if (variant == TicketVariant.Random) LoadWeights(model, RewindPath);
        using var masks = new MaskSet(model);
        if (variant == TicketVariant.Reinit) masks.LoadStateDict(ticketMasks.StateDict());
        else
        {
            var overrides = ticketMasks.Names.ToDictionary(n => n, n => 1 - (double)ticketMasks.Kept(n) / ticketMasks.Parameter(n).numel());
            var scope = Options.Scope with { Allocation = Allocation.Allocation.Local, Overrides = overrides, Include = [.. overrides.Keys], Exclude = [] };
            new Pruner(masks, new RandomCriterion(Options.Training.Seed + round), new ElementGranularity(), scope).Prune(0);
        }
        Retrain(model, masks, round, cancellation, fromStart: variant == TicketVariant.Reinit && Options.Retrain != RetrainMode.WeightRewinding);
        return Store(round, variant, Density(masks, Options.Scope), Evaluator.Classify(model, _test, cancellation: cancellation));
    }

    /// <summary>Trains <paramref name="model"/> with <paramref name="masks"/> in force from the rewind point (or the start) to the end.</summary>
    void Retrain(nn.Module<Tensor, Tensor> model, MaskSet masks, int round, CancellationToken cancellation, bool fromStart = false)
    {
        var options = Options.Training;
        int batches = new BatchPlan(options.BatchSize, options.Shuffle, options.Seed, options.DropLast).BatchesPerEpoch(_train.Count);
        if (Options.Retrain == RetrainMode.FineTuning)
        {
            long total = (long)options.Epochs * batches;
            options = options with { Schedule = new ConstantSchedule(options.Schedule.At(Math.Max(0, total - 1))) };
        }
        using var trainer = new Trainer(model, options) { Progress = Progress };
        trainer.Callbacks.Add(new MaskedTraining(masks));
        long step = fromStart ? 0 : Options.RewindStep;
        if (step > 0) trainer.Rewind(new TrainingPosition((int)(step / batches), (int)(step % batches), step));
        manual_seed(options.Seed + round);
        masks.Apply();
        Fit(trainer, cancellation);
    }

    void Fit(Trainer trainer, CancellationToken cancellation)
    {
        TrainingRuns++;
        if (trainer.Fit(_train, cancellation).Cancelled) throw new OperationCanceledException("the Lottery Ticket experiment was cancelled", cancellation);
    }

    static double Density(MaskSet masks, PruningScope scope)
    {
        var names = scope.Select(masks);
        long total = names.Sum(n => masks.Parameter(n).numel());
        return total == 0 ? 1 : (double)names.Sum(masks.Kept) / total;
    }

    string RoundFolder(int round) => Path.Combine(Folder, $"round-{round:D2}");
    string WeightsPath(int round) => Path.Combine(RoundFolder(round), "weights.bin");
    string RewindPath => Path.Combine(Folder, "rewind.bin");
    string ResultPath(int round, TicketVariant variant) => Path.Combine(RoundFolder(round), $"{variant.ToString().ToLowerInvariant()}.json");

    sealed record StoredResult(int Round, string Variant, double Density, double Top1, double Top5, double Loss, int Count);

    LotteryTicketResult? Stored(int round, TicketVariant variant)
    {
        string path = ResultPath(round, variant);
        if (!File.Exists(path)) return null;
        try
        {
            if (JsonSerializer.Deserialize<StoredResult>(File.ReadAllText(path)) is not { } s) return null;
            if (!Plausible(s, round, variant))
            {
                Log?.Report($"round {round}: the {variant.ToString().ToLowerInvariant()} result in {path} is damaged; training it again");
                return null;
            }
            Log?.Report($"round {round}: reusing the {variant.ToString().ToLowerInvariant()} result from {path}");
            return new LotteryTicketResult(round, variant, s.Density, new ClassificationMetrics(s.Top1, s.Top5, s.Loss, s.Count), Reused: true);
        }
        catch (JsonException)
        {
            return null; // a damaged result is trained again
        }
    }

    LotteryTicketResult Store(int round, TicketVariant variant, double density, ClassificationMetrics test)
    {
        Directory.CreateDirectory(RoundFolder(round));
        var stored = new StoredResult(round, variant.ToString(), density, test.Top1, test.Top5, test.Loss, test.Count);
        AtomicFile.Write(ResultPath(round, variant), stream => JsonSerializer.Serialize(stream, stored));
        return new LotteryTicketResult(round, variant, density, test, Reused: false);
    }

    void WriteTable(IReadOnlyList<LotteryTicketResult> results)
    {
        var variants = results.Select(r => r.Variant).Distinct().ToList();
        var text = new StringBuilder("round,density," + string.Join(",", variants.Select(v => v.ToString().ToLowerInvariant())) + "\n");
        foreach (var round in results.GroupBy(r => r.Round))
        {
            text.Append(CultureInfo.InvariantCulture, $"{round.Key},{round.First(r => r.Variant == TicketVariant.Ticket).Density:0.######}");
            foreach (var v in variants)
                text.Append(',').Append(round.FirstOrDefault(r => r.Variant == v)?.Test.Top1.ToString("0.####", CultureInfo.InvariantCulture) ?? "");
            text.Append('\n');
        }
        AtomicFile.Write(TablePath, stream => stream.Write(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static void SaveWeights(nn.Module module, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            module.save(writer);
        });
    }

    /// <summary>Whether a stored result is one this round and variant could have written (a damaged file may still parse).</summary>
    static bool Plausible(StoredResult s, int round, TicketVariant variant) =>
        s.Round == round && string.Equals(s.Variant, variant.ToString(), StringComparison.OrdinalIgnoreCase)
        && s.Density is > 0 and <= 1 && s.Top1 is >= 0 and <= 1 && s.Top5 is >= 0 and <= 1 && s.Top1 <= s.Top5
        && double.IsFinite(s.Loss) && s.Loss >= 0 && s.Count > 0;

    static void LoadWeights(nn.Module module, string path)
    {
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            module.load(reader);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or FormatException or InvalidDataException
                                      or System.Runtime.InteropServices.ExternalException)
        {
            throw new RunStateException($"{path}: the saved weights are damaged or belong to another network ({e.Message.Split('\n')[0]}); run again with --restart");
        }
    }

    /// <summary>Saves the weights once the dense run has taken the rewind step's optimizer steps.</summary>
    sealed class RewindCapture(long step, Action<nn.Module> save) : ITrainingCallback
    {
        public void OnAfterOptimizerStep(TrainingContext context)
        {
            if (context.Position.Step == step) save(context.Model);
        }
    }
}
