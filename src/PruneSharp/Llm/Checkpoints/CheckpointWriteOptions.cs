namespace PruneSharp.Llm.Checkpoints;

/// <summary>How a <see cref="CheckpointWriter"/> treats an existing output folder and what it records in the shards.</summary>
public sealed record CheckpointWriteOptions
{
    /// <summary>Replace an existing output folder (swapped out only once the new one is complete); otherwise it is refused.</summary>
    public bool ReplaceExisting { get; init; }

    /// <summary>
    /// Entries added to every shard's <c>__metadata__</c> (e.g. <c>pruned_by</c>, <c>sparsity</c>), over the input's own;
    /// <c>format</c> stays <c>pt</c> unless set here, since transformers refuses shards without it. Null leaves the
    /// headers of unchanged shards as they were.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
