using PruneSharp.Recipes;

namespace PruneSharp.Sweeps;

/// <summary>
/// The <c>prunesharp run</c> arguments that run one cell on its own: the recipe, the sweep's overrides, the cell's
/// overrides and export path (or Lottery Ticket or comparison folder), the run store and the sweep's group. Local sweeps start them as child processes; a
/// Slurm job array writes one line of them per task.
/// </summary>
public static class CellCommand
{
    /// <summary>The arguments after the <c>prunesharp</c> executable.</summary>
    /// <param name="recipe">The recipe file.</param>
    /// <param name="overrides">The sweep's own <c>--set</c> overrides, applied before the cell's.</param>
    /// <param name="cell">The cell.</param>
    /// <param name="store">The run store the cell records to.</param>
    /// <param name="group">The sweep's group in the store.</param>
    public static IReadOnlyList<string> Arguments(string recipe, IReadOnlyList<RecipeOverride> overrides, SweepCell cell, string store, string group)
    {
        var args = new List<string> { "run", Path.GetFullPath(recipe) };
        foreach (var o in overrides.Concat(cell.Overrides)) args.AddRange(new[] { "--set", $"{o.Key}={o.Value}" });
        if (cell.Recipe.Pipeline.Export is { } export) args.AddRange(new[] { "--set", $"export.path={export.Path}" });
        if (cell.Recipe.Lottery is { } lottery) args.AddRange(new[] { "--set", $"lottery.folder={lottery.Folder}" });
        if (cell.Recipe.Comparison is { } comparison)
            args.AddRange(new[] { "--set", $"comparison.folder={comparison.Folder}", "--set", $"comparison.report={comparison.Report}" });
        args.AddRange(new[] { "--store", store, "--group", group, "--json" });
        return args;
    }

    /// <summary><paramref name="arg"/> quoted for a POSIX shell (single quotes, embedded ones escaped).</summary>
    public static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@+".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}
