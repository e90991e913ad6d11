namespace PruneSharp.Llm.Depth;

/// <summary>
/// Which decoder layers a depth pruning removes: the <see cref="Lowest"/> <c>n</c> by Block Influence (ShortGPT), or
/// <see cref="Exactly"/> the listed ones (a user's own choice, or a control such as the last <c>n</c> layers).
/// </summary>
public sealed class LayerChoice
{
    readonly int _count;
    readonly int[]? _layers;

    LayerChoice(int count, int[]? layers) => (_count, _layers) = (count, layers);

    /// <summary>The <paramref name="count"/> layers with the lowest Block Influence.</summary>
    public static LayerChoice Lowest(int count) => new(count, null);

    /// <summary>Exactly <paramref name="layers"/> (0-based, in the input's numbering; order and repeats do not matter).</summary>
    public static LayerChoice Exactly(IEnumerable<int> layers)
    {
        var distinct = layers.Distinct().Order().ToArray();
        return new(distinct.Length, distinct);
    }

    /// <summary>How many layers this choice removes.</summary>
    public int Count => _count;

    /// <summary>Checks the choice against a model of <paramref name="layerCount"/> layers before any work.</summary>
    /// <exception cref="ArgumentException">Fewer than 1 or not fewer than <paramref name="layerCount"/> layers, or a layer index outside the model (the message names <paramref name="model"/>).</exception>
    public void Validate(int layerCount, string model)
    {
        if (_count < 1 || _count >= layerCount)
            throw new ArgumentException($"{model}: the number of layers to remove must be at least 1 and below the model's {layerCount} layers, got {_count}");
        if (_layers?.FirstOrDefault(l => l < 0 || l >= layerCount, -1) is int bad and not -1)
            throw new ArgumentException($"{model}: layer {bad} does not exist; the model's layers are 0 to {layerCount - 1}");
    }

    /// <summary>The layers to remove, ascending, given every layer's Block Influence.</summary>
    public int[] Select(IReadOnlyList<double> influence) => _layers ?? BlockInfluence.LowestLayers(influence, _count);

    /// <inheritdoc/>
    public override string ToString() => _layers is null ? $"the {_count} lowest-influence layers" : $"layers {string.Join(", ", _layers)}";
}
