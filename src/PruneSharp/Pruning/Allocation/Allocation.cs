namespace PruneSharp.Pruning.Allocation;

/// <summary>How a target sparsity is split over the prunable parameters.</summary>
public enum Allocation
{
    /// <summary>Local (uniform): every parameter is pruned to the target sparsity on its own.</summary>
    Local,
    /// <summary>Global: one threshold over the units of all parameters; layers end up with different sparsities.</summary>
    Global,
    /// <summary>
    /// Erdős–Rényi-Kernel (Evci et al. 2020): density ∝ (sum of the weight's dimensions)/(product of its dimensions),
    /// scaled so the total matches the target; layers that would exceed density 1 stay dense.
    /// </summary>
    Erk,
}
