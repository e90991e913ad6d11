namespace PruneSharp.Training;

/// <summary>Where training stands: the next batch to run, and how many optimizer steps were taken.</summary>
/// <param name="Epoch">The current epoch (0-based); equals the number of completed epochs when <paramref name="Batch"/> is 0.</param>
/// <param name="Batch">The next batch of <paramref name="Epoch"/> to run (0-based).</param>
/// <param name="Step">Optimizer steps taken so far; the learning-rate schedule is evaluated at this step.</param>
public readonly record struct TrainingPosition(int Epoch, int Batch, long Step)
{
    /// <summary>The start of training.</summary>
    public static TrainingPosition Start => default;

    /// <summary>The start of epoch <paramref name="epoch"/> with <paramref name="batchesPerEpoch"/> batches (and one step) per batch.</summary>
    public static TrainingPosition AtEpoch(int epoch, int batchesPerEpoch) => new(epoch, 0, (long)epoch * batchesPerEpoch);
}
