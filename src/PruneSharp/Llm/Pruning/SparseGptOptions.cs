namespace PruneSharp.Llm.Pruning;

/// <summary>The settings of <see cref="SparseGpt"/>, with the paper's defaults.</summary>
public sealed record SparseGptOptions
{
    /// <summary>Dampening λ added to H's diagonal, as a fraction of mean(diag H) (<c>percdamp</c>, default 0.01).</summary>
    public double PercDamp { get; init; } = 0.01;

    /// <summary>Columns per lazy-update block, over which the unstructured mask is chosen (<c>blocksize</c>, default 128).</summary>
    public int BlockSize { get; init; } = 128;
}
