using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>
/// Whole kernels of a convolution: the k×k (or any spatial size) slice of weight [out, in, kh, kw] that connects one
/// input channel to one output channel (connectivity pruning).
/// </summary>
public sealed class KernelGranularity : RankedGranularity
{
    /// <inheritdoc />
    public override string Name => "kernel";

    /// <inheritdoc />
    public override string? CannotSplit(string name, IReadOnlyList<long> shape) =>
        shape.Count < 3 ? $"kernel pruning needs a convolution weight [out, in, k...]; '{name}' has shape {Shape(shape)}" : null;

    /// <inheritdoc />
    public override Tensor ToUnits(string name, Tensor values)
    {
        CheckSplit(name, values);
        return values.reshape(values.shape[0] * values.shape[1], -1);
    }

    /// <inheritdoc />
    public override Tensor FromUnits(Tensor units, long[] shape) => units.reshape(shape);
}
