namespace PruneSharp.Llm.Pruning;

/// <summary>The settings of <see cref="Dsnot"/>.</summary>
public sealed record DsnotOptions
{
    /// <summary>The most prune-and-grow swaps per output row (the paper's maximum cycles T; default 100).</summary>
    public int MaxCycles { get; init; } = 100;

    /// <summary>A row stops once its expected output error |ε_i| is at most this (the update threshold; default 0.1).</summary>
    public double UpdateThreshold { get; init; } = 0.1;

    /// <summary>The power γ of Var(x_j) dividing the growing score (default 1).</summary>
    public double VariancePower { get; init; } = 1;
}
