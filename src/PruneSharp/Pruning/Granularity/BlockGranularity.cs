using static TorchSharp.torch;

namespace PruneSharp.Pruning.Granularity;

/// <summary>
/// Blocks of <see cref="Rows"/> × <see cref="Columns"/> weights over the 2-D view of a weight, [out, everything else]
/// (a Linear's [out, in]; a Conv's [out, in·kh·kw]). Both block sizes must divide the view's sizes.
/// </summary>
public sealed class BlockGranularity : RankedGranularity
{
    /// <summary>Creates r×c blocks (e.g. 1×4 or 4×4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public BlockGranularity(long rows, long columns)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "block rows must be at least 1");
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "block columns must be at least 1");
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Block height (along the output dimension).</summary>
    public long Rows { get; }

    /// <summary>Block width (along the flattened input dimension).</summary>
    public long Columns { get; }

    /// <inheritdoc />
    public override string Name => $"block{Rows}x{Columns}";

    /// <inheritdoc />
    public override string? CannotSplit(string name, IReadOnlyList<long> shape)
    {
        if (shape.Count < 2) return $"{Name} pruning needs a weight of rank 2 or more; '{name}' has shape {Shape(shape)}";
        long r = shape[0], c = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        return r % Rows != 0 || c % Columns != 0
            ? $"{Name} blocks do not tile '{name}': its 2-D view is [{r},{c}], and {Rows} must divide {r} and {Columns} must divide {c}" : null;
    }

    /// <inheritdoc />
    public override Tensor ToUnits(string name, Tensor values)
    {
        CheckSplit(name, values);
        long r = values.shape[0], c = values.numel() / r;
        return values.reshape(r / Rows, Rows, c / Columns, Columns).permute(0, 2, 1, 3).reshape(-1, Rows * Columns);
    }

    /// <inheritdoc />
    public override Tensor FromUnits(Tensor units, long[] shape)
    {
        long r = shape[0], c = shape.Aggregate(1L, (a, b) => a * b) / r;
        return units.reshape(r / Rows, c / Columns, Rows, Columns).permute(0, 2, 1, 3).reshape(shape);
    }
}
