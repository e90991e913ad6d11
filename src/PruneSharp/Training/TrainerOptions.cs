using PruneSharp.Files;

namespace PruneSharp.Training;

/// <summary>Settings of a training run.</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (the run ends at the start of this epoch).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Visit the examples in a seeded random order that changes every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Skip each epoch's last, incomplete batch.</summary>
    public bool DropLast { get; init; }

    /// <summary>Seed of batch order, augmentation, and libtorch's generator (set when a fresh run starts; a resumed run restores it).</summary>
    public long Seed { get; init; }

    /// <summary>The update rule.</summary>
    public OptimizerSettings Optimizer { get; init; } = new();

    /// <summary>The learning rate at every optimizer step.</summary>
    public LearningRateSchedule Schedule { get; init; } = new ConstantSchedule(0.01);

    /// <summary>If set, gradients are rescaled so that their global L2 norm is at most this value.</summary>
    public double? ClipGradientNorm { get; init; }

    /// <summary>If set, libtorch's intra-op thread count during the fit (restored afterwards).</summary>
    public int? Threads { get; init; }

    /// <summary>If set, a checkpoint is written here (atomically) after every epoch and when the run is cancelled.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// What determines this run's results (model, data, options), stored in its checkpoints; a checkpoint recorded
    /// under another fingerprint is refused on resume, naming the keys that differ.
    /// </summary>
    public RunFingerprint? Fingerprint { get; init; }

    /// <summary>Which parameters the optimizer changes (default: the parameters of parameterised ops; see <see cref="TrainableParameters"/>).</summary>
    public TrainableParameters Trainable { get; init; } = new();

    /// <summary>The training objective.</summary>
    public LossFunction Loss { get; init; } = Losses.CrossEntropy;

    /// <summary>Report progress every this many batches (and at every epoch's end).</summary>
    public int ProgressInterval { get; init; } = 20;

    /// <summary>Throws if a setting is out of range.</summary>
    public void Validate()
    {
        if (Epochs < 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be non-negative");
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be positive");
        if (ClipGradientNorm is { } clip && !(clip > 0)) throw new ArgumentOutOfRangeException(nameof(ClipGradientNorm), clip, "gradient clip norm must be positive");
        if (Threads is { } threads && threads <= 0) throw new ArgumentOutOfRangeException(nameof(Threads), threads, "thread count must be positive");
        if (ProgressInterval <= 0) throw new ArgumentOutOfRangeException(nameof(ProgressInterval), ProgressInterval, "progress interval must be positive");
    }
}
