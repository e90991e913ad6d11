using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Recipes;

/// <summary><c>prunesharp run</c>: recipes run through the same library code as the <c>prune</c> verb; each example recipe runs.</summary>
[Collection(SerialCollection.Name)]
public class RunCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { RunCommand.Create(), PruneCommand.Create() }, args);

    [Fact]
    public void A_recipe_and_the_prune_verb_with_the_same_choices_write_the_same_weights()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), """
            model: lenet-300-100
            seed: 7
            stages:
              - method: random
                scope: global
                sparsity: 0.7
                first_last: prune
                exclude: [fc3.*]
            recovery: {kind: none}
            export: {path: from-recipe.onnx}
            """);
        var (code, output, error) = Invoke("run", folder.File("r.yaml"), "--json", "--no-store");
        Assert.True(code == 0, error);
        (code, _, error) = Invoke("prune", "lenet-300-100", "--seed", "7", "--method", "random", "--scope", "global", "--sparsity", "0.7",
            "--first-last", "prune", "--exclude", "fc3.*", "--no-store", "-o", folder.File("from-flags.onnx"));
        Assert.True(code == 0, error);
        var fromRecipe = OnnxFile.Read(folder.File("from-recipe.onnx")).Initializers;
        var fromFlags = OnnxFile.Read(folder.File("from-flags.onnx")).Initializers;
        Assert.Equal(fromFlags.Keys.Order(), fromRecipe.Keys.Order());
        foreach (var (name, tensor) in fromFlags) Assert.True(tensor.eq(fromRecipe[name]).all().item<bool>(), name);
        // The reported sparsity is that of the written weights: fc1 and fc2 at 70% globally, fc3 dense.
        var stage = JsonDocument.Parse(output).RootElement.GetProperty("stages")[0];
        long total = 0, zeros = 0;
        foreach (var name in new[] { "fc1.weight", "fc2.weight" })
        {
            total += fromRecipe[name].numel();
            zeros += fromRecipe[name].eq(0).sum().item<long>();
        }
        Assert.Equal((double)zeros / total, stage.GetProperty("pruned_sparsity").GetDouble(), 9);
        Assert.Equal(0.7, (double)zeros / total, 3);
        Assert.Equal(0, fromRecipe["fc3.weight"].eq(0).sum().item<long>());
    }

    [Fact]
    public void A_bad_recipe_lists_every_problem_and_runs_nothing()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("r.yaml"), "model: lenet-5\nstages:\n  - method: magnitud\n    sparsity: 0.5\n    scop: global\nexport: {path: out.onnx}\n");
        var (code, _, error) = Invoke("run", folder.File("r.yaml"), "--no-store");
        Assert.Equal(1, code);
        Assert.Contains($"{folder.File("r.yaml")}:3:13: stages[0].method 'magnitud' is not one of", error);
        Assert.Contains("(did you mean magnitude?)", error);
        Assert.Contains($"{folder.File("r.yaml")}:5:5: unknown key 'stages[0].scop'", error);
        Assert.Contains("2 problem(s)", error);
        Assert.False(File.Exists(folder.File("out.onnx")));
    }

    [RequiresPathTheory(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    [InlineData("magnitude.yaml")]
    [InlineData("nm-2-4.yaml")]
    [InlineData("snip-at-init.yaml")]
    [InlineData("gradual.yaml")]
    [InlineData("channel.yaml")]
    [InlineData("blocks.yaml")]
    public void Each_example_recipe_runs_and_reports_what_it_wrote(string example)
    {
        using var folder = new TempFolder();
        string recipe = Path.Combine(Repository.Root(), "examples", example), output = folder.File("pruned.onnx");
        var (code, text, error) = Invoke("run", recipe, "--set", $"export.path={output}", "--json", "--no-store");
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(text).RootElement;
        var loaded = PruneSharp.Recipes.Recipe.Load(recipe);
        var stage = loaded.Pipeline.Stages[0];

        // The accuracy reported is that of the written file on the same test examples.
        var test = Subset.First(PruneSharp.Pipelines.Sources.LoadData(loaded.Pipeline.Data!.Source, DataSplit.Test), loaded.Pipeline.Data.TestExamples!.Value);
        using var written = OnnxFile.Load(output);
        Assert.Equal(report.GetProperty("accuracy_after").GetDouble(), Evaluator.Classify(written, test).Top1, 9);

        var weights = OnnxFile.Read(output).Initializers;
        var reported = report.GetProperty("stages")[0];
        if (stage.Structure == "block")
        {
            // Whole residual blocks are gone: as many Add nodes fewer as blocks reported removed, the parameters reported those of the file.
            int removed = reported.GetProperty("blocks").EnumerateArray().Count(b => b.GetProperty("removed").GetBoolean());
            Assert.Equal(stage.Blocks, removed);
            using var dense = PruneSharp.Models.ModelZoo.CreateClassifier(loaded.Pipeline.Model, new PruneSharp.Models.ClassifierOptions());
            Assert.Equal(dense.Graph.Nodes.Count(n => n.OpType == "Add") - removed, OnnxFile.Read(output).Nodes.Count(n => n.OpType == "Add"));
            Assert.Equal(reported.GetProperty("params_after").GetInt64(), written.parameters().Sum(p => p.numel()));
            return;
        }
        if (stage.Structure == "channel")
        {
            // Channels are gone, not zeroed: the written model has the parameter count reported, every group no wider than before.
            Assert.Equal(reported.GetProperty("params_after").GetInt64(), written.parameters().Sum(p => p.numel()));
            Assert.True(reported.GetProperty("params_after").GetInt64() < reported.GetProperty("params_before").GetInt64());
            Assert.All(reported.GetProperty("groups").EnumerateArray(), g => Assert.True(g.GetProperty("after").GetInt32() <= g.GetProperty("before").GetInt32()));
            return;
        }
        // The written weights hold the sparsity the stage asked for, in the pattern its granularity means.
        var pruned = weights.Where(w => w.Key.EndsWith(".weight") && !(stage.Exclude ?? Array.Empty<string>()).Any(x => w.Key.StartsWith(x.TrimEnd('*'))))
            .Where(w => w.Value.eq(0).sum().item<long>() > 0).ToList();
        Assert.NotEmpty(pruned);
        double sparsity = pruned.Sum(w => w.Value.eq(0).sum().item<long>()) / (double)pruned.Sum(w => w.Value.numel());
        Assert.Equal(stage.Sparsity!.Value, sparsity, 2);
        if (stage.Granularity == "2:4")
            foreach (var (name, w) in pruned)
                Assert.True(w.reshape(-1, 4).ne(0).sum(dim: 1).le(2).all().item<bool>(), $"{name} has a group of 4 with more than 2 non-zeros");
    }
}
