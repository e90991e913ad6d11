namespace PruneSharp.Data;

/// <summary>
/// How one epoch is cut into batches: batch size, whether to shuffle (seeded by <see cref="Seed"/> and the epoch),
/// and whether to drop a last incomplete batch. The order of epoch <c>e</c> is a pure function of (seed, e).
/// </summary>
/// <param name="BatchSize">Examples per batch (positive).</param>
/// <param name="Shuffle">Visit examples in a random order that changes every epoch.</param>
/// <param name="Seed">Seed of the order and of augmentation.</param>
/// <param name="DropLast">Skip the last batch if it has fewer than <paramref name="BatchSize"/> examples.</param>
public sealed record BatchPlan(int BatchSize, bool Shuffle = true, long Seed = 0, bool DropLast = false)
{
    /// <summary>Number of batches per epoch for a data set of <paramref name="count"/> examples.</summary>
    public int BatchesPerEpoch(int count)
    {
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be positive");
        return DropLast ? count / BatchSize : (count + BatchSize - 1) / BatchSize;
    }

    /// <summary>The example indices of every batch of <paramref name="epoch"/>, in order.</summary>
    public IReadOnlyList<int[]> Indices(int count, int epoch)
    {
        int batches = BatchesPerEpoch(count);
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        if (Shuffle) new DataRandom(Seed, 1, epoch).Shuffle(order.AsSpan());
        var result = new int[batches][];
        for (int b = 0; b < batches; b++)
            result[b] = order.AsSpan(b * BatchSize, Math.Min(BatchSize, count - b * BatchSize)).ToArray();
        return result;
    }

    /// <summary>
    /// The batches of <paramref name="epoch"/> from batch <paramref name="firstBatch"/> on (to resume mid-epoch).
    /// Each batch's augmentation stream depends only on (seed, epoch, batch index). The caller disposes each batch.
    /// </summary>
    public IEnumerable<Batch> Batches(IDataset data, int epoch, int firstBatch = 0, bool augment = true)
    {
        var indices = Indices(data.Count, epoch);
        for (int b = firstBatch; b < indices.Count; b++)
            yield return data.GetBatch(indices[b], augment ? AugmentationStream(epoch, b) : null);
    }

    /// <summary>The random stream that drives augmentation of batch <paramref name="batch"/> of <paramref name="epoch"/>.</summary>
    public DataRandom AugmentationStream(int epoch, int batch) => new(Seed, 2, epoch, batch);
}
