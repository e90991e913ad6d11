namespace PruneSharp.Pruning;

/// <summary>The outcome of one pruning step for one parameter.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Elements">Its number of weights.</param>
/// <param name="Kept">Weights kept by its mask after the step.</param>
/// <param name="TargetSparsity">The sparsity the allocation asked of it (for global allocation: what the threshold gave).</param>
public sealed record LayerPruning(string Name, long Elements, long Kept, double TargetSparsity)
{
    /// <summary>Fraction of the weights that are masked.</summary>
    public double Sparsity => Elements == 0 ? 0 : 1 - (double)Kept / Elements;
}
