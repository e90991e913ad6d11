using PruneSharp.Recipes;
using PruneSharp.Sweeps;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Sweeps;

/// <summary>Sweep grids: every combination × seeds, identities, all problems at once, and the Slurm array's cells.</summary>
public class SweepGridTests
{
    /// <summary>A data-free recipe that writes a model: a cell runs in about a second.</summary>
    internal const string Recipe = """
        model: lenet-300-100
        stages:
          - method: magnitude
            sparsity: 0.5
        recovery: {kind: none}
        export: {path: out.onnx}
        """;

    [Fact]
    public void Cells_are_every_combination_with_every_seed_each_with_its_own_identity()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), Recipe);
        var axes = new[] { SweepAxis.Parse("sparsity=0.5,0.8,0.9"), SweepAxis.Parse("method=magnitude,random") };
        var cells = SweepGrid.Cells(folder.File("r.yaml"), axes, seeds: 2, output: folder.File("sweep"));
        Assert.Equal(3 * 2 * 2, cells.Count);
        Assert.Equal(cells.Count, cells.Select(c => c.Identity).Distinct().Count());
        var pairs = cells.Select(c => (c.Recipe.Pipeline.Stages[0].Sparsity, c.Recipe.Pipeline.Stages[0].Method, c.Recipe.Pipeline.Seed)).ToHashSet();
        Assert.Equal(12, pairs.Count);
        Assert.All(cells, c => Assert.Equal(folder.File("sweep", c.Identity + ".onnx"), c.Recipe.Pipeline.Export!.Path));
        // The same cell resolved again (another sweep, the same grid) has the same identity.
        Assert.Equal(cells.Select(c => c.Identity), SweepGrid.Cells(folder.File("r.yaml"), axes, 2, folder.File("elsewhere")).Select(c => c.Identity));
    }

    [Fact]
    public void Bad_values_are_reported_for_every_cell_they_break()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), Recipe);
        var e = Assert.Throws<RecipeException>(() => SweepGrid.Cells(folder.File("r.yaml"),
            new[] { SweepAxis.Parse("sparsity=0.5,1.5"), SweepAxis.Parse("method=magnitude,magnitde") }, 1, folder.File("s")));
        Assert.Contains(e.Problems, p => p.Message.StartsWith("cell sparsity=1.5 method=magnitude seed=0: stages[0].sparsity must be in [0, 1)"));
        Assert.Contains(e.Problems, p => p.Message.StartsWith("cell sparsity=0.5 method=magnitde seed=0: stages[0].method 'magnitde'") && p.Suggestions!.SequenceEqual(new[] { "magnitude" }));
        Assert.Equal(4, e.Problems.Count);
        Assert.Throws<ArgumentException>(() => SweepAxis.Parse("sparsity="));
        Assert.Throws<ArgumentException>(() => SweepGrid.Cells(folder.File("r.yaml"), new[] { SweepAxis.Parse("seed=1,2") }, 1, folder.File("s")));
    }

    [Fact]
    public void A_slurm_array_line_runs_exactly_its_cell()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), Recipe);
        var cells = SweepGrid.Cells(folder.File("r.yaml"), new[] { SweepAxis.Parse("stages[0].exclude=[fc1.*],[fc2.*]") }, 2, folder.File("s"));
        var lines = cells.Select(c => string.Join(' ', CellCommand.Arguments(folder.File("r.yaml"), Array.Empty<RecipeOverride>(), c, "/shared/runs.db", "g").Select(CellCommand.Quote))).ToList();
        string script = SlurmArray.Write(folder.File("s"), new SlurmJob("prunesharp-g", "cpu", "00:10:00", 2, 3), lines);
        string text = File.ReadAllText(script);
        Assert.Contains("#SBATCH --array=1-4%3", text);
        Assert.Contains("#SBATCH --partition=cpu", text);
        Assert.Equal(lines, File.ReadAllLines(folder.File("s", "cells.txt")));
        for (int i = 0; i < cells.Count; i++)
        {
            // What the shell makes of line i: the arguments of run, whose --set values resolve to the cell's recipe.
            var args = ShellWords(lines[i]);
            Assert.Equal(new[] { "run", folder.File("r.yaml") }, args.Take(2));
            var sets = args.Select((a, k) => (a, k)).Where(x => x.a == "--set").Select(x => RecipeOverride.Parse(args[x.k + 1])).ToList();
            var resolved = PruneSharp.Recipes.Recipe.Load(folder.File("r.yaml"), sets);
            Assert.Equal(cells[i].Identity, resolved.Identity);
            Assert.Equal(cells[i].Recipe.Pipeline.Export!.Path, resolved.Pipeline.Export!.Path);
        }
    }

    /// <summary>Splits a line as a POSIX shell does for plain words and single-quoted strings (what <see cref="CellCommand.Quote"/> writes).</summary>
    static List<string> ShellWords(string line)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in line)
        {
            if (quoted) { if (c == '\'') quoted = false; else current.Append(c); }
            else if (c == '\'') { quoted = true; any = true; }
            else if (c == ' ') { if (any || current.Length > 0) words.Add(current.ToString()); current.Clear(); any = false; }
            else current.Append(c);
        }
        if (any || current.Length > 0) words.Add(current.ToString());
        return words;
    }
}
