namespace PruneSharp.Metrics;

/// <summary>Multiply–accumulates of one layer in one forward pass.</summary>
/// <param name="Name">The node or submodule name.</param>
/// <param name="OpType">Conv, ConvTranspose, Gemm, MatMul, Linear.</param>
/// <param name="Weight">The weight parameter whose zeros are skipped, or null if the op has none.</param>
/// <param name="DenseMacs">MACs of the dense op for the observed shapes.</param>
/// <param name="WeightDensity">Non-zero fraction of the weight (1 without one).</param>
/// <param name="EffectiveMacs">MACs that involve a non-zero weight: dense MACs × weight density (exact, since every weight is used equally often).</param>
public sealed record LayerMacs(string Name, string OpType, string? Weight, long DenseMacs, double WeightDensity, long EffectiveMacs);

/// <summary>
/// Dense and effective MACs of a forward pass. FLOPs follow the convention FLOPs = 2 · MACs (one multiply and one add
/// per MAC); bias additions, normalisation and activations are not counted.
/// </summary>
public sealed record MacReport(IReadOnlyList<LayerMacs> Layers)
{
    /// <summary>MACs of the dense model.</summary>
    public long DenseMacs => Layers.Sum(l => l.DenseMacs);

    /// <summary>MACs that touch non-zero weights.</summary>
    public long EffectiveMacs => Layers.Sum(l => l.EffectiveMacs);

    /// <summary>2 · <see cref="DenseMacs"/>.</summary>
    public long DenseFlops => 2 * DenseMacs;

    /// <summary>2 · <see cref="EffectiveMacs"/>.</summary>
    public long EffectiveFlops => 2 * EffectiveMacs;

    /// <summary>Dense over effective MACs (the theoretical speed-up of skipping zeros; ∞ if nothing remains).</summary>
    public double Speedup => EffectiveMacs == 0 ? double.PositiveInfinity : (double)DenseMacs / EffectiveMacs;
}
