using System.CommandLine;
using PruneSharp.Data;
using PruneSharp.Pipelines;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>The optimizer and schedule flags shared by train, prune (fine-tuning) and lth.</summary>
sealed class TrainingFlags(string scheduleFlag = "--schedule")
{
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Examples per batch.", DefaultValueFactory = _ => 64 };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "Initial learning rate.", DefaultValueFactory = _ => 0.01 };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "sgd, adam or adamw.", DefaultValueFactory = _ => "sgd" };
    public Option<double> Momentum { get; } = new("--momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => 0.9 };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay (L2; decoupled for adamw).", DefaultValueFactory = _ => 0.0 };
    public Option<string> Schedule { get; } = new(scheduleFlag) { Description = "Learning-rate schedule: constant, cosine, step (x0.1 at 1/2 and 3/4 of training) or onecycle.", DefaultValueFactory = _ => "constant" };
    public Option<long> Seed { get; } = new("--seed") { Description = "Seed of initialisation, batch order and random pruning.", DefaultValueFactory = _ => 0L };
    public Option<int?> Threads { get; } = new("--threads") { Description = "libtorch threads (default: all cores)." };
    public Option<string> Augment { get; } = new("--augment") { Description = "Training augmentation: none, or a comma list of crop:PAD (random crop after zero padding by PAD pixels) and flip (random horizontal flip).", DefaultValueFactory = _ => "none" };

    public Option<string[]> Freeze { get; } = new("--freeze") { Description = "Parameters never trained (names or patterns with * and ?), on top of the default (only the parameters of layers train; constants on the input path, scalars and shape values stay as they are).", AllowMultipleArgumentsPerToken = true };
    public Option<string[]> TrainOnly { get; } = new("--train-only") { Description = "Train exactly these parameters (names or patterns with * and ?) instead of the default selection.", AllowMultipleArgumentsPerToken = true };

    public IEnumerable<Option> All => new Option[] { BatchSize, LearningRate, Optimizer, Momentum, WeightDecay, Schedule, Seed, Threads, Augment, Freeze, TrainOnly };

    /// <summary>What a fit trains, in words: "trains 8 of 10 parameters (...); frozen: mean (reason), ...".</summary>
    public static string Describe(TrainableSelection selection)
    {
        int total = selection.Trained.Count + selection.Frozen.Count;
        string trained = $"trains {selection.Trained.Count} of {total} parameters ({TrainableParameters.Describe(selection.Trained)})";
        return selection.Frozen.Count == 0 ? trained
            : $"{trained}; frozen: {TrainableParameters.Describe(selection.Frozen.Select(f => $"{f.Name} ({f.Reason})").ToList(), 4)}";
    }

    /// <summary>What a fit trains, as JSON.</summary>
    public static object Json(TrainableSelection selection) =>
        new { trained = selection.Trained, frozen = selection.Frozen.Select(f => new { name = f.Name, reason = f.Reason }) };

    /// <summary>The training settings the flags give, for <paramref name="epochs"/> epochs on labels (finetune).</summary>
    public RecoveryDescription Description(ParseResult parse, int epochs) =>
        new("finetune", epochs, parse.GetValue(BatchSize), parse.GetValue(Optimizer)!, parse.GetValue(LearningRate), parse.GetValue(Momentum), parse.GetValue(WeightDecay),
            parse.GetValue(Schedule)!, Freeze: parse.GetValue(Freeze) is { Length: > 0 } freeze ? freeze : null,
            TrainOnly: parse.GetValue(TrainOnly) is { Length: > 0 } only ? only : null, Threads: parse.GetValue(Threads));

    /// <summary><c>--augment</c> as a description's value (null: none).</summary>
    public string? AugmentSpec(ParseResult parse) => parse.GetValue(Augment) is { } augment && augment != "none" ? augment : null;

    /// <summary>The training split of the data set <paramref name="spec"/>, with the <c>--augment</c> setting applied.</summary>
    public ImageDataset TrainingData(ParseResult parse, string spec, Preprocessing? sizes = null)
    {
        var train = CliInputs.LoadData(spec, DataSplit.Train, sizes);
        train.Augmentation = Augmentation.Parse(parse.GetValue(Augment)!);
        return train;
    }

    /// <summary>Trainer settings for <paramref name="epochs"/> epochs over <paramref name="examples"/> examples.</summary>
    public TrainerOptions Options(ParseResult parse, int epochs, int examples, string? checkpoint = null)
    {
        int batch = parse.GetValue(BatchSize);
        if (batch <= 0) throw new ArgumentException($"--batch-size must be positive, got {batch}");
        if (epochs < 0) throw new ArgumentException($"--epochs must be non-negative, got {epochs}");
        double rate = parse.GetValue(LearningRate);
        if (!(rate > 0)) throw new ArgumentException($"--lr must be positive, got {rate}");
        var kind = TrainingParts.Optimizer(parse.GetValue(Optimizer)!);
        long steps = Math.Max(1, (long)epochs * ((examples + batch - 1) / batch));
        var schedule = TrainingParts.Schedule(parse.GetValue(Schedule)!, rate, steps, scheduleFlag);
        var options = new TrainerOptions
        {
            Epochs = epochs,
            BatchSize = batch,
            Seed = parse.GetValue(Seed),
            Optimizer = new OptimizerSettings(kind, kind == OptimizerKind.Sgd ? parse.GetValue(Momentum) : 0, WeightDecay: parse.GetValue(WeightDecay)),
            Schedule = schedule,
            Threads = parse.GetValue(Threads),
            CheckpointPath = checkpoint,
            Trainable = new TrainableParameters { Freeze = parse.GetValue(Freeze) ?? Array.Empty<string>(), TrainOnly = parse.GetValue(TrainOnly) ?? Array.Empty<string>() },
        };
        options.Validate();
        return options;
    }
}
