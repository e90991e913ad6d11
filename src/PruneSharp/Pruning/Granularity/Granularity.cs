using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>
/// What one unit of pruning is. A granularity rearranges a parameter's element values into units, a
/// [units, unit size] tensor (<see cref="ToUnits"/>), and back (<see cref="FromUnits"/>). Two kinds exist:
/// <see cref="RankedGranularity"/> (element, block, kernel: the scope ranks units against each other and removes the
/// lowest) and <see cref="PatternGranularity"/> (N:M, kernel patterns: every unit keeps a fixed pattern of its own).
/// The <see cref="Pruner"/> shows every weight in the layout [output, reduction, other axes] (a MatMul's [in, out]
/// weight transposed, a ConvTranspose's [in, out, kh, kw] with its first two axes swapped; see <see cref="WeightLayout"/>),
/// so dimension 1 is always the axis the layer sums over.
/// </summary>
public abstract class Granularity
{
    /// <summary>A short name, e.g. <c>2:4</c> or <c>block4x4</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Rearranges the element values (a tensor of the parameter's shape) of parameter <paramref name="name"/>
    /// into units, [units, unit size].
    /// </summary>
    /// <exception cref="PruningException">The parameter's shape cannot be split into such units; the message names it.</exception>
    public abstract Tensor ToUnits(string name, Tensor values);

    /// <summary>
    /// Why a weight of <paramref name="shape"/> cannot be split into units (null if it can), naming
    /// <paramref name="name"/>; <see cref="ToUnits"/> throws this reason.
    /// </summary>
    public abstract string? CannotSplit(string name, IReadOnlyList<long> shape);

    /// <summary>The inverse of <see cref="ToUnits"/>: [units, unit size] back to <paramref name="shape"/>.</summary>
    public abstract Tensor FromUnits(Tensor units, long[] shape);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>The shape as text, for messages.</summary>
    protected static string Shape(IReadOnlyList<long> shape) => $"[{string.Join(",", shape)}]";

    /// <summary>Throws <see cref="PruningException"/> if <paramref name="values"/> cannot be split into units.</summary>
    protected void CheckSplit(string name, Tensor values)
    {
        if (CannotSplit(name, values.shape) is { } reason) throw new PruningException(reason);
    }
}

/// <summary>A granularity whose units are ranked by the scope: the lowest-scoring units are removed whole.</summary>
public abstract class RankedGranularity : Granularity;

/// <summary>
/// A granularity where every unit keeps a fixed pattern chosen from its own scores, so every unit has the same
/// density (<see cref="Density"/>) and the scope has no threshold to set.
/// </summary>
public abstract class PatternGranularity : Granularity
{
    /// <summary>Fraction of each unit that is kept.</summary>
    public abstract double Density { get; }

    /// <summary>
    /// The keep-mask (bool, [units, unit size]) given element scores [units, unit size] where pruned elements are −∞.
    /// </summary>
    public abstract Tensor SelectKeep(Tensor scores);
}
