namespace PruneSharp.Training;

/// <summary>Progress of a running fit, reported every few batches and at the end of each epoch.</summary>
/// <param name="Position">Position after the last finished batch.</param>
/// <param name="Epochs">Total epochs of the run.</param>
/// <param name="BatchesPerEpoch">Batches in one epoch.</param>
/// <param name="Loss">Mean training loss over the epoch so far.</param>
/// <param name="Accuracy">Top-1 training accuracy over the epoch so far, per predicted position (null when the outputs are not class logits).</param>
/// <param name="SamplesPerSecond">Training throughput over the epoch so far.</param>
/// <param name="LearningRate">Learning rate of the last step.</param>
public sealed record TrainingProgress(TrainingPosition Position, int Epochs, int BatchesPerEpoch, double Loss, double? Accuracy,
    double SamplesPerSecond, double LearningRate);

/// <summary>One finished epoch (for an epoch resumed mid-way, the batches run after resuming).</summary>
/// <param name="Epoch">The epoch (0-based).</param>
/// <param name="Loss">Mean training loss.</param>
/// <param name="Accuracy">Top-1 training accuracy (null when the outputs are not class logits).</param>
/// <param name="Samples">Examples seen.</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record EpochSummary(int Epoch, double Loss, double? Accuracy, long Samples, TimeSpan Elapsed);

/// <summary>How a fit ended.</summary>
/// <param name="Position">Where training stopped (a completed run stands at the start of epoch <c>Epochs</c>).</param>
/// <param name="Cancelled">True if it stopped because cancellation was requested (a checkpoint was written if a path was set).</param>
/// <param name="Epochs">Summaries of the epochs finished in this call.</param>
public sealed record TrainingResult(TrainingPosition Position, bool Cancelled, IReadOnlyList<EpochSummary> Epochs);
