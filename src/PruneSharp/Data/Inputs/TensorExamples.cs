using static TorchSharp.torch;

namespace PruneSharp.Data.Inputs;

/// <summary>Examples held as one tensor per input (e.g. the arrays of a .npz file), examples along the first dimension.</summary>
public sealed class TensorExamples : IInputExamples
{
    readonly IReadOnlyDictionary<string, Tensor> _inputs;

    /// <summary>Wraps <paramref name="inputs"/>; every tensor has the same first dimension, the number of examples.</summary>
    /// <exception cref="ArgumentException">No tensor, a scalar, or first dimensions that differ.</exception>
    public TensorExamples(IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (inputs.Count == 0) throw new ArgumentException("no input arrays");
        foreach (var (name, value) in inputs)
            if (value.dim() == 0) throw new ArgumentException($"input '{name}' is a scalar; examples run along the first dimension");
        var counts = inputs.Select(i => i.Value.shape[0]).Distinct().ToList();
        if (counts.Count != 1)
            throw new ArgumentException($"the input arrays hold different numbers of examples (first dimensions: {string.Join(", ", inputs.Select(i => $"{i.Key} {i.Value.shape[0]}"))})");
        _inputs = inputs;
        Count = (int)counts[0];
    }

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> Names => _inputs.Keys.ToList();

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Tensor> Batch(IReadOnlyList<int> indices)
    {
        using var index = tensor(indices.Select(i => (long)i).ToArray());
        return _inputs.ToDictionary(i => i.Key, i => i.Value.index_select(0, index));
    }
}
