namespace PruneSharp.Data.Inputs;

/// <summary>How the values of a synthesised input are drawn.</summary>
public enum InputValueKind
{
    /// <summary>Standard normal floats.</summary>
    Normal,
    /// <summary>Integers drawn uniformly from [<see cref="InputValues.Low"/>, <see cref="InputValues.High"/>): indices into a table, or a fallback range.</summary>
    Integers,
    /// <summary>All ones (true for booleans): an attention mask that lets every position through.</summary>
    Ones,
    /// <summary>Booleans drawn with probability one half.</summary>
    Bits,
}

/// <summary>The values a synthesised input takes and why, as read from the graph.</summary>
/// <param name="Kind">How the values are drawn.</param>
/// <param name="Low">Integers: the smallest value drawn.</param>
/// <param name="High">Integers: one past the largest value drawn.</param>
/// <param name="Reason">Why, in words (e.g. <c>indexes the 7-row table 'embed.weight'</c>).</param>
public sealed record InputValues(InputValueKind Kind, long Low, long High, string Reason);
