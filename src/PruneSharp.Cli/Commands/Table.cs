using System.Text.Json;

namespace PruneSharp.Cli.Commands;

/// <summary>Plain-text tables and shared output settings of the commands.</summary>
static class Table
{
    /// <summary>JSON output: indented, with non-finite numbers written as strings.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>A shape as 1x3x224x224 (a scalar as "scalar").</summary>
    public static string Shape(IEnumerable<long> shape) => shape.Any() ? string.Join("x", shape) : "scalar";

    /// <summary>The first three names, and how many more there are: "a, b, c (+2)".</summary>
    public static string Names(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(3)) + (names.Count > 3 ? $" (+{names.Count - 3})" : "");

    /// <summary>Writes left-aligned columns separated by two spaces.</summary>
    public static void Write(TextWriter output, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Count).Select(c => all.Max(r => r[c].Length)).ToArray();
        foreach (var row in all)
            output.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Count - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
    }
}
