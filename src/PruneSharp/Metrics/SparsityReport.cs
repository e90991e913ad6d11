using static TorchSharp.torch;

namespace PruneSharp.Metrics;

/// <summary>Size and sparsity of one parameter.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Parameters">Number of weights.</param>
/// <param name="NonZeros">Number of weights that are not zero.</param>
public sealed record ParameterSparsity(string Name, long[] Shape, long Parameters, long NonZeros)
{
    /// <summary>Fraction of zero weights.</summary>
    public double Sparsity => Parameters == 0 ? 0 : 1 - (double)NonZeros / Parameters;
}

/// <summary>
/// Parameters, non-zeros and sparsity per parameter and in total. The compression ratio is given in both conventions
/// of the literature: <see cref="CompressionRatio"/> = original/remaining parameters (e.g. 10×) and
/// <see cref="RemainingFraction"/> = remaining/original (e.g. 0.1).
/// </summary>
public sealed record SparsityReport(IReadOnlyList<ParameterSparsity> Layers)
{
    /// <summary>Total number of parameters.</summary>
    public long Parameters => Layers.Sum(l => l.Parameters);

    /// <summary>Total number of non-zero parameters.</summary>
    public long NonZeros => Layers.Sum(l => l.NonZeros);

    /// <summary>Fraction of all parameters that are zero.</summary>
    public double Sparsity => Parameters == 0 ? 0 : 1 - (double)NonZeros / Parameters;

    /// <summary>Compression ratio, original/remaining parameters (∞ if nothing remains).</summary>
    public double CompressionRatio => NonZeros == 0 ? double.PositiveInfinity : (double)Parameters / NonZeros;

    /// <summary>Remaining/original parameters (density; the other convention of the compression ratio).</summary>
    public double RemainingFraction => Parameters == 0 ? 1 : (double)NonZeros / Parameters;

    /// <summary>
    /// Measures every parameter of <paramref name="module"/> (or those <paramref name="include"/> accepts by name,
    /// e.g. only the prunable ones).
    /// </summary>
    public static SparsityReport Measure(nn.Module module, Func<string, bool>? include = null)
    {
        using var _ = no_grad();
        var layers = new List<ParameterSparsity>();
        foreach (var (name, p) in module.named_parameters())
        {
            if (include != null && !include(name)) continue;
            layers.Add(new ParameterSparsity(name, p.shape, p.numel(), p.count_nonzero().item<long>()));
        }
        return new SparsityReport(layers);
    }
}
