namespace PruneSharp.Data;

/// <summary>
/// A finite, indexable data set that assembles mini-batches. Shuffling and batching are done by
/// <see cref="BatchPlan"/>; random augmentation (if the data set has any) is driven by the <see cref="DataRandom"/> passed in.
/// </summary>
public interface IDataset
{
    /// <summary>Number of examples.</summary>
    int Count { get; }

    /// <summary>Stacks the examples at <paramref name="indices"/> into one batch.</summary>
    /// <param name="indices">Example indices, each in <c>[0, Count)</c>.</param>
    /// <param name="random">Drives random augmentation; <c>null</c> means none (evaluation).</param>
    Batch GetBatch(IReadOnlyList<int> indices, DataRandom? random = null);
}
