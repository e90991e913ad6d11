namespace PruneSharp.Pruning;

/// <summary>The outcome of one pruning step for one parameter.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Elements">Its number of weights.</param>
/// <param name="Kept">Weights kept by its mask after the step.</param>
/// <param name="TargetSparsity">The sparsity the allocation gave it: the target (local), its override, its ERK share, or for global allocation the pool's target (the layer's own result is <see cref="Sparsity"/>).</param>
public sealed record LayerPruning(string Name, long Elements, long Kept, double TargetSparsity)
{
    /// <summary>Why the layer was left as it was (the granularity cannot split it), or null if it was pruned.</summary>
    public string? Skipped { get; init; }

    /// <summary>Fraction of the weights that are masked.</summary>
    public double Sparsity => Elements == 0 ? 0 : 1 - (double)Kept / Elements;
}
