using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// OWL, Outlier Weighed Layerwise sparsity (Yin et al., ICML 2024): decoder layers whose Wanda scores hold more
/// outliers keep more weights. A layer's outlier ratio D_l is the fraction of the scores |W_ij|·‖X_j‖₂ over all its
/// linears that exceed M times the mean of those scores (M = 5 by default); the densities 1 − S_l follow D_l
/// linearly, average exactly 1 − S and stay within [1 − S − λ, 1 − S + λ] (λ = 0.08 by default; the paper uses M = 5,
/// λ = 0.08 for LLaMA-7B). Only unstructured sparsity is allocated this way; N:M stays uniform.
/// </summary>
public static class OwlAllocation
{
    /// <summary>The default outlier threshold M (a score is an outlier above M × the layer's mean score).</summary>
    public const double DefaultOutlierThreshold = 5;

    /// <summary>The default half-width λ of the density range around 1 − S.</summary>
    public const double DefaultLambda = 0.08;

    /// <summary>
    /// D_l of one decoder layer: the fraction of the Wanda scores of all its linears (weight [out, in] with the squared
    /// column norms [in] of its input) above <paramref name="threshold"/> × their mean. Scores are computed twice,
    /// one linear at a time, rather than held.
    /// </summary>
    /// <exception cref="PruningException">No linears, or a weight does not fit its norms.</exception>
    public static double OutlierRatio(IReadOnlyList<(Tensor Weight, Tensor ColumnNormsSquared)> linears, double threshold = DefaultOutlierThreshold)
    {
        if (linears.Count == 0) throw new PruningException("OWL needs at least one linear layer per decoder layer");
        double sum = 0;
        long count = 0;
        foreach (var (weight, norms) in linears)
        {
            if (weight.dim() != 2 || norms.dim() != 1 || norms.shape[0] != weight.shape[1])
                throw new PruningException($"OWL: weight [{string.Join(",", weight.shape)}] does not fit column norms [{string.Join(",", norms.shape)}]");
            using var scope = NewDisposeScope();
            sum += WandaPruning.Scores(weight, norms).sum(ScalarType.Float64).item<double>();
            count += weight.numel();
        }
        double limit = threshold * sum / count;
        long outliers = 0;
        foreach (var (weight, norms) in linears)
        {
            using var scope = NewDisposeScope();
            outliers += WandaPruning.Scores(weight, norms).gt(limit).count_nonzero().item<long>();
        }
        return (double)outliers / count;
    }

    /// <summary>
    /// Per-layer densities (1 − sparsity) for a target sparsity <paramref name="sparsity"/>: the outlier ratios are
    /// min-max normalised to [0, 1], centred on their mean and scaled by the largest factor ≤ 2λ that keeps every layer
    /// within ±λ of 1 − S, then shifted to mean 1 − S. (Normalising to width 2λ and shifting, as the paper describes the
    /// range, can leave a layer up to 2λ from the mean when the ratios are skewed; the scaling keeps the paper's stated
    /// bound S_l ∈ [S − λ, S + λ] and equals the width-2λ map whenever the normalised ratios average ½.) Equal ratios
    /// give uniform densities.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Sparsity not in [0, 1), λ negative, or the range leaves [0, 1].</exception>
    public static double[] Densities(IReadOnlyList<double> outlierRatios, double sparsity, double lambda = DefaultLambda)
    {
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be in [0, 1)");
        if (!(lambda >= 0)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be ≥ 0");
        double density = 1 - sparsity;
        if (density - lambda < 0 || density + lambda > 1)
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"densities {density:0.###} ± λ={lambda} leave [0, 1]; lower λ");
        if (outlierRatios.Count == 0) return Array.Empty<double>();
        double min = outlierRatios.Min(), max = outlierRatios.Max();
        if (!(max > min)) return outlierRatios.Select(_ => density).ToArray();
        var normalised = outlierRatios.Select(d => (d - min) / (max - min)).ToArray();
        double mean = normalised.Average();
        var centred = normalised.Select(v => v - mean).ToArray();
        double scale = Math.Min(2 * lambda, lambda / centred.Max(Math.Abs));
        return centred.Select(c => Math.Clamp(density + scale * c, density - lambda, density + lambda)).ToArray();
    }
}
