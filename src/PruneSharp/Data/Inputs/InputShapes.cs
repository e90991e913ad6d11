using System.Globalization;

namespace PruneSharp.Data.Inputs;

/// <summary>Reads the <c>NAME=DxDx…</c> shapes a user gives for graph inputs (<c>input_ids=1x128</c>).</summary>
public static class InputShapes
{
    /// <summary>The shapes in <paramref name="specs"/>, by input name.</summary>
    /// <param name="specs">One <c>NAME=DxDx…</c> per entry (an empty shape after <c>=</c> is a scalar).</param>
    /// <param name="option">The option that gave them, for error messages (e.g. <c>--shape</c>).</param>
    /// <exception cref="ArgumentException">An entry is not of that form or a dimension is not a non-negative integer.</exception>
    public static Dictionary<string, long[]> Parse(IEnumerable<string> specs, string option = "--shape")
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.LastIndexOf('=');
            if (eq <= 0) throw new ArgumentException($"{option} '{spec}' is not NAME=DxDx... (e.g. input_ids=1x128)");
            string name = spec[..eq], dims = spec[(eq + 1)..];
            shapes[name] = dims.Length == 0 ? Array.Empty<long>() : dims.Split('x').Select(d =>
                long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v
                : throw new ArgumentException($"{option} '{spec}': '{d}' is not a dimension (non-negative integer)")).ToArray();
        }
        return shapes;
    }
}
