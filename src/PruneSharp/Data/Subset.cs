namespace PruneSharp.Data;

/// <summary>A view of some examples of another data set (e.g. a validation split or a calibration sample).</summary>
public sealed class Subset : IDataset
{
    readonly IDataset _source;
    readonly int[] _indices;

    /// <summary>The examples of <paramref name="source"/> at <paramref name="indices"/>, in that order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the source.</exception>
    public Subset(IDataset source, IEnumerable<int> indices)
    {
        _source = source;
        _indices = indices.ToArray();
        foreach (int index in _indices)
            if ((uint)index >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"index outside the source's [0, {source.Count})");
    }

    /// <summary>The first <paramref name="count"/> examples of <paramref name="source"/> (all of them if it has fewer).</summary>
    public static Subset First(IDataset source, int count) => new(source, Enumerable.Range(0, Math.Min(count, source.Count)));

    /// <inheritdoc/>
    public int Count => _indices.Length;

    /// <inheritdoc/>
    public Batch GetBatch(IReadOnlyList<int> indices, DataRandom? random = null) =>
        _source.GetBatch(indices.Select(i => (uint)i < (uint)_indices.Length ? _indices[i]
            : throw new ArgumentOutOfRangeException(nameof(indices), i, $"index outside [0, {_indices.Length})")).ToArray(), random);
}
