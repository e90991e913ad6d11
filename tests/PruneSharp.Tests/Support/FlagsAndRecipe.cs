using System.Text.Json;
using PruneSharp.Recipes;
using PruneSharp.Runs;

namespace PruneSharp.Tests.Support;

/// <summary>
/// The comparison at the heart of the recipe tests: in one folder, <c>run r.yaml --store recipe.db</c> wrote
/// <c>from-recipe.onnx</c> and the <c>prune</c> verb with the same choices (<c>--store prune.db</c>) wrote
/// <c>from-flags.onnx</c>.
/// </summary>
static class FlagsAndRecipe
{
    /// <summary>
    /// Asserts that both wrote the same bytes and recorded one completed run each with the same metrics and method,
    /// and that the verb recorded the recipe's description but for where it writes; returns the verb's run.
    /// </summary>
    public static RunSummary AssertAlike(TempFolder folder)
    {
        Assert.Equal(File.ReadAllBytes(folder.File("from-recipe.onnx")), File.ReadAllBytes(folder.File("from-flags.onnx")));
        RunSummary Only(string store, out string? recorded)
        {
            using var runs = RunStores.Open(store);
            var run = Assert.Single(runs.ListRuns());
            recorded = runs.GetRun(run.Id).Recipe;
            return run;
        }
        RunSummary fromRecipe = Only(folder.File("recipe.db"), out _), fromFlags = Only(folder.File("prune.db"), out string? description);
        Assert.Equal((RunStatus.Completed, RunStatus.Completed), (fromRecipe.Status, fromFlags.Status));
        Assert.Equal(fromRecipe.Metrics.OrderBy(m => m.Key), fromFlags.Metrics.OrderBy(m => m.Key));
        Assert.Equal(fromRecipe.Method, fromFlags.Method);
        var recipe = Recipe.Load(folder.File("r.yaml")).Pipeline;
        Assert.Equal(JsonSerializer.Serialize(recipe with { Export = recipe.Export! with { Path = folder.File("from-flags.onnx") } }), description);
        return fromFlags;
    }
}
