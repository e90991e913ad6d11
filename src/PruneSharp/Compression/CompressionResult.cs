using PruneSharp.Training;

namespace PruneSharp.Compression;

/// <summary>Settings of centroid fine-tuning within <see cref="DeepCompression.Compress"/>.</summary>
/// <param name="Data">The labelled training data.</param>
/// <param name="Options">Epochs, batch size, optimizer and learning rate (the summed cluster gradients are large: use a small SGD rate or Adam).</param>
/// <param name="Progress">Receives training progress, if set.</param>
public sealed record CentroidTraining(Data.IDataset Data, TrainerOptions Options, IProgress<TrainingProgress>? Progress = null);

/// <summary>What <see cref="DeepCompression.Compress"/> did.</summary>
/// <param name="Shared">The model right after k-means sharing.</param>
/// <param name="Final">The model stored in the <c>.psz</c> file (after fine-tuning, if any; else <paramref name="Shared"/>).</param>
/// <param name="Training">The fine-tuning run, or null when there was none.</param>
/// <param name="Report">Sizes per layer and in total.</param>
public sealed record CompressionResult(SharedModel Shared, SharedModel Final, TrainingResult? Training, CompressionReport Report);
