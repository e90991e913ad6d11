namespace PruneSharp.Graph;

/// <summary>One dimension of a shape: a known size, a named symbolic size (e.g. <c>batch</c>), or unknown.</summary>
/// <param name="Size">The size when known.</param>
/// <param name="Symbol">The symbolic name when the size is not fixed.</param>
public readonly record struct Dim(long? Size, string? Symbol = null)
{
    /// <summary>A fixed size.</summary>
    public static implicit operator Dim(long size) => new(size);

    /// <summary>A symbolic size.</summary>
    public static Dim Named(string symbol) => new(null, symbol);

    /// <inheritdoc />
    public override string ToString() => Size?.ToString() ?? Symbol ?? "?";
}

/// <summary>A named value of the graph (an input, output or intermediate) with its element type and shape.</summary>
/// <param name="Name">The value's name, unique in the graph.</param>
/// <param name="ElementType">The element type, or <see cref="DataType.Undefined"/> if unknown.</param>
/// <param name="Shape">The shape, or null if its rank is unknown.</param>
public sealed record ValueInfo(string Name, DataType ElementType, IReadOnlyList<Dim>? Shape)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: {ElementType}[{(Shape == null ? "?" : string.Join(",", Shape))}]";
}
