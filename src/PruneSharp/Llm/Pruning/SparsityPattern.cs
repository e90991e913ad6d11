using System.Globalization;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// What a pruned linear layer [out, in] looks like: unstructured at a fraction of its weights, or N:M, where every
/// run of M consecutive weights along the input (reduction) axis of each output row keeps at most N non-zero weights
/// (2:4 keeps 2 of every 4: 50% sparsity; 4:8 keeps 4 of every 8). M must divide the input width.
/// </summary>
public sealed record SparsityPattern
{
    SparsityPattern(double sparsity, int n, int m)
    {
        Sparsity = sparsity;
        N = n;
        M = m;
    }

    /// <summary>The fraction of weights pruned (1 − N/M for N:M).</summary>
    public double Sparsity { get; }

    /// <summary>Weights kept per group for N:M; 0 when unstructured.</summary>
    public int N { get; }

    /// <summary>Group length for N:M; 0 when unstructured.</summary>
    public int M { get; }

    /// <summary>Whether this is an N:M pattern.</summary>
    public bool IsNM => M > 0;

    /// <summary>Unstructured sparsity: a fraction in [0, 1) of the weights is pruned.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in [0, 1).</exception>
    public static SparsityPattern Unstructured(double sparsity) =>
        sparsity >= 0 && sparsity < 1 ? new SparsityPattern(sparsity, 0, 0)
            : throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be in [0, 1)");

    /// <summary>N:M: N weights kept of every M consecutive inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unless 1 ≤ N &lt; M.</exception>
    public static SparsityPattern NM(int n, int m) =>
        m >= 2 && n >= 1 && n < m ? new SparsityPattern(1 - (double)n / m, n, m)
            : throw new ArgumentOutOfRangeException(nameof(n), $"{n}:{m}", "N:M needs 1 ≤ N < M");

    /// <summary>Parses "0.5" (unstructured) or "2:4" (N:M), as the <c>--sparsity</c> flag takes them.</summary>
    /// <exception cref="FormatException">Neither form, or out of range; the message quotes the text.</exception>
    public static SparsityPattern Parse(string text)
    {
        var parts = text.Split(':');
        try
        {
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m))
                return NM(n, m);
            if (parts.Length == 1 && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s))
                return Unstructured(s);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException($"sparsity '{text}': {e.Message.Split(Environment.NewLine)[0]}");
        }
        throw new FormatException($"sparsity '{text}' is neither a fraction in [0, 1) (0.5) nor N:M (2:4)");
    }

    /// <inheritdoc />
    public override string ToString() => IsNM ? $"{N}:{M}" : Sparsity.ToString(CultureInfo.InvariantCulture);
}
