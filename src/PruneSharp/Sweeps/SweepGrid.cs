using System.Globalization;
using PruneSharp.Recipes;

namespace PruneSharp.Sweeps;

/// <summary>One axis of a sweep: a recipe key and the values it takes (<c>--grid sparsity=0.5,0.8,0.9</c>).</summary>
/// <param name="Key">The recipe key, as <see cref="RecipeOverride"/> reads it.</param>
/// <param name="Values">The values, in order.</param>
public sealed record SweepAxis(string Key, IReadOnlyList<string> Values)
{
    /// <summary>Reads <c>KEY=V1,V2,...</c>.</summary>
    /// <exception cref="ArgumentException">No key, no value, or a value given twice.</exception>
    public static SweepAxis Parse(string text)
    {
        int equals = text.IndexOf('=');
        if (equals <= 0) throw new ArgumentException($"--grid '{text}' is not KEY=V1,V2,... (e.g. sparsity=0.5,0.8,0.9)");
        var values = text[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (values.Length == 0) throw new ArgumentException($"--grid '{text}' gives no values");
        if (values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1) is { } twice) throw new ArgumentException($"--grid '{text}' gives {twice.Key} twice");
        return new SweepAxis(RecipeOverride.Parse(text[..equals] + "=").Key, values);
    }
}

/// <summary>One cell of a sweep: the recipe with the cell's overrides and seed applied.</summary>
/// <param name="Overrides">The overrides that make the cell (grid values, then the seed).</param>
/// <param name="Recipe">The recipe they resolve to; its <see cref="Recipe.Identity"/> is the cell's identity.</param>
public sealed record SweepCell(IReadOnlyList<RecipeOverride> Overrides, Recipe Recipe)
{
    /// <summary>The cell's identity: the hash of the resolved recipe, seed included.</summary>
    public string Identity => Recipe.Identity;

    /// <summary>The cell as a short label: <c>sparsity=0.9 method=snip seed=1</c>.</summary>
    public string Label => string.Join(" ", Overrides.Select(o => $"{o.Key}={o.Value}"));
}

/// <summary>The cells of a sweep: every combination of the axes' values, each with every seed.</summary>
public static class SweepGrid
{
    /// <summary>
    /// Resolves every cell of <paramref name="axes"/> × seeds 0..<paramref name="seeds"/>−1 on the recipe at
    /// <paramref name="recipe"/> (with <paramref name="overrides"/> applied first). The last axis varies fastest.
    /// Each cell's export path, if the recipe exports, becomes <c>OUTPUT/IDENTITY.onnx</c> under <paramref name="output"/>;
    /// a Lottery Ticket or comparison cell's folder becomes <c>OUTPUT/IDENTITY</c> (a comparison's report <c>OUTPUT/IDENTITY/report.html</c>).
    /// </summary>
    /// <exception cref="RecipeException">Some cells are invalid: every problem of every cell, each naming the cell's overrides.</exception>
    public static IReadOnlyList<SweepCell> Cells(string recipe, IReadOnlyList<SweepAxis> axes, int seeds, string output, IReadOnlyList<RecipeOverride>? overrides = null)
    {
        if (seeds < 1) throw new ArgumentException($"--seeds must be at least 1, got {seeds}");
        var duplicate = axes.GroupBy(a => a.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"--grid {duplicate.Key} is given twice");
        if (axes.Any(a => a.Key == "seed")) throw new ArgumentException("the seed is swept with --seeds N, not --grid seed=...");
        IEnumerable<IReadOnlyList<RecipeOverride>> combinations = new[] { Array.Empty<RecipeOverride>() };
        foreach (var axis in axes)
            combinations = combinations.SelectMany(c => axis.Values.Select(v => (IReadOnlyList<RecipeOverride>)c.Append(new RecipeOverride(axis.Key, v)).ToList())).ToList();
        var cells = new List<SweepCell>();
        var problems = new List<RecipeProblem>();
        foreach (var combination in combinations)
            for (int seed = 0; seed < seeds; seed++)
            {
                var own = combination.Append(new RecipeOverride("seed", seed.ToString(CultureInfo.InvariantCulture))).ToList();
                try
                {
                    var resolved = Recipe.Load(recipe, (overrides ?? Array.Empty<RecipeOverride>()).Concat(own));
                    if (resolved.Pipeline.Export is { } export)
                        resolved = resolved with { Pipeline = resolved.Pipeline with { Export = export with { Path = Path.Combine(Path.GetFullPath(output), resolved.Identity + ".onnx") } } };
                    if (resolved.Lottery is { } lottery) // each cell's experiment in its own folder
                        resolved = resolved with { Lottery = lottery with { Folder = Path.Combine(Path.GetFullPath(output), resolved.Identity) } };
                    if (resolved.Comparison is { } comparison) // each cell's models, cached rows, store and report in its own folder
                    {
                        string cellFolder = Path.Combine(Path.GetFullPath(output), resolved.Identity);
                        resolved = resolved with { Comparison = comparison with { Folder = cellFolder, Report = Path.Combine(cellFolder, "report.html") } };
                    }
                    cells.Add(new SweepCell(own, resolved));
                }
                catch (RecipeException e)
                {
                    string label = string.Join(" ", own.Select(o => $"{o.Key}={o.Value}"));
                    problems.AddRange(e.Problems.Select(p => p with { Message = $"cell {label}: {p.Message}" }));
                }
            }
        if (problems.Count > 0) throw new RecipeException(problems.DistinctBy(p => p.ToString()).ToList());
        return cells;
    }
}
