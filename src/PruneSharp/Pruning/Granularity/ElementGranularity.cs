using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>Unstructured pruning: every weight is its own unit.</summary>
public sealed class ElementGranularity : RankedGranularity
{
    /// <inheritdoc />
    public override string Name => "element";

    /// <inheritdoc />
    public override string? CannotSplit(string name, IReadOnlyList<long> shape) => null;

    /// <inheritdoc />
    public override Tensor ToUnits(string name, Tensor values) => values.reshape(-1, 1);

    /// <inheritdoc />
    public override Tensor FromUnits(Tensor units, long[] shape) => units.reshape(shape);
}
