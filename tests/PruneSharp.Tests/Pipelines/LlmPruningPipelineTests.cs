using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;
using static PruneSharp.Tests.Pipelines.CheckpointRecipes;

namespace PruneSharp.Tests.Pipelines;

/// <summary>
/// <c>llm prune</c>'s flags and a recipe's <c>llm</c> section describe the same <see cref="LlmPruningDescription"/> and
/// run through the same <see cref="LlmPruningPipeline"/>: with the same seed they write the same checkpoint, byte for byte.
/// </summary>
[Collection(SerialCollection.Name)]
public class LlmPruningPipelineTests
{
    static string Text(TempFolder folder) => CheckpointRecipes.Text(folder, "And God said, Let there be light: and there was light. And God saw the light, that it was good. ");

    [Theory]
    [InlineData("sparsegpt", "0.5", "uniform")]
    [InlineData("wanda", "2:4", "uniform")]
    [InlineData("magnitude", "0.6", "owl")]
    public void The_flags_and_the_equivalent_recipe_write_the_same_checkpoint(string method, string sparsity, string allocation)
    {
        using var folder = new TempFolder();
        string text = Text(folder), checkpoint = Fixture("llama-gqa-bf16-sharded");
        var (code, output, error) = Invoke("llm", "prune", checkpoint, "--method", method, "--sparsity", sparsity, "--allocation", allocation,
            "--calibration", text, "--nsamples", "4", "--seqlen", "32", "--seed", "7", "--json", "--no-store", "-o", folder.File("flags"));
        Assert.True(code == 0, error);
        double flagsSparsity = JsonDocument.Parse(output).RootElement.GetProperty("Sparsity").GetDouble();
        File.WriteAllText(folder.File("llm.yaml"), $"""
            model: {checkpoint}
            seed: 7
            llm:
              method: {method}
              sparsity: "{sparsity}"
              allocation: {allocation}
              calibration: calibration.txt
              nsamples: 4
              seqlen: 32
            export: {"{"}path: recipe{"}"}
            """);
        (code, output, error) = Invoke("run", folder.File("llm.yaml"), "--json", "--no-store");
        Assert.True(code == 0, error);
        Assert.Equal(flagsSparsity, JsonDocument.Parse(output).RootElement.GetProperty("Sparsity").GetDouble());
        SameFiles(folder.File("flags"), folder.File("recipe"));
    }

    [Fact]
    public void Llm_keys_are_checked_at_their_line_and_column_with_the_nearest_names()
    {
        using var folder = new TempFolder();
        Text(folder);
        File.WriteAllText(folder.File("bad.yaml"), $"""
            model: {Fixture("gpt2-f32")}
            llm:
              method: wand
              sparsity: "2:4"
              allocation: owl
              calibration: calibration.txt
              nsample: 4
            data: {"{"}source: fashion-mnist{"}"}
            export: {"{"}path: out{"}"}
            """);
        var problems = Problems(folder.File("bad.yaml"));
        void Reported(string expected) => CheckpointRecipes.Reported(problems, expected);
        Reported("bad.yaml:3:11: llm.method must be one of magnitude, wanda, sparsegpt, shortgpt; got 'wand' (did you mean wanda?)");
        Reported("bad.yaml:5:15: llm.allocation owl spreads an unstructured sparsity over layers");
        Reported("bad.yaml:7:3: unknown key 'llm.nsample'");
        Reported("(did you mean nsamples?)");
        Reported("bad.yaml:8:1: data does not apply to an llm recipe");
        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public void A_checkpoint_prune_records_one_step_per_layer_and_its_files()
    {
        using var folder = new TempFolder();
        string text = Text(folder);
        var (code, output, error) = Invoke("llm", "prune", Fixture("llama-gqa-bf16-sharded"), "--method", "magnitude", "--sparsity", "0.5",
            "--calibration", text, "--nsamples", "2", "--seqlen", "32", "--json", "--store", folder.File("runs.db"), "-o", folder.File("out"));
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        Assert.Equal((RunStatus.Completed, "llm prune", "magnitude"), (run.Summary.Status, run.Summary.Kind, run.Summary.Method));
        Assert.Equal(report.GetProperty("layers").GetArrayLength(), run.Steps.Where(s => s.Name == "layer_target_sparsity").Count());
        Assert.Equal(report.GetProperty("Sparsity").GetDouble(), run.Summary.Metrics[MetricNames.Sparsity]);
        Assert.Equal(Directory.GetFiles(folder.File("out")).Length, run.Artifacts.Count(a => a.Role == "checkpoint"));
    }

    [Fact]
    public void An_llm_recipe_with_an_evaluation_section_measures_the_checkpoint_it_wrote()
    {
        using var folder = new TempFolder();
        Text(folder);
        string checkpoint = Fixture("llama-gqa-bf16-sharded");
        File.WriteAllText(folder.File("prune-eval.yaml"), $"""
            model: {checkpoint}
            llm: {"{"}method: wanda, sparsity: "2:4", calibration: calibration.txt, nsamples: 2, seqlen: 32{"}"}
            evaluation: {"{"}text: calibration.txt, seqlen: 32, batch_size: 2{"}"}
            export: {"{"}path: pruned{"}"}
            """);
        var (code, output, error) = Invoke("run", folder.File("prune-eval.yaml"), "--json", "--store", folder.File("runs.db"));
        Assert.True(code == 0, error);
        var measured = JsonDocument.Parse(output).RootElement.GetProperty("evaluation");
        // The same measurement as llm eval on the written checkpoint, to the last bit; the dense checkpoint scores otherwise.
        (code, output, error) = Invoke("llm", "eval", folder.File("pruned"), "--text", folder.File("calibration.txt"), "--seqlen", "32", "--batch-size", "2", "--json");
        Assert.True(code == 0, error);
        static string Compact(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.ToJsonString();
        Assert.Equal(Compact(output), Compact(measured.GetRawText()));
        (code, output, error) = Invoke("llm", "eval", checkpoint, "--text", folder.File("calibration.txt"), "--seqlen", "32", "--batch-size", "2", "--json");
        Assert.True(code == 0, error);
        Assert.NotEqual(JsonDocument.Parse(output).RootElement.GetProperty("perplexity").GetDouble(), measured.GetProperty("perplexity").GetDouble());

        using (var runs = RunStores.Open(folder.File("runs.db")))
        {
            var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
            Assert.Equal(RunStatus.Completed, run.Summary.Status);
            Assert.Equal(measured.GetProperty("perplexity").GetDouble(), run.Summary.Metrics[MetricNames.Perplexity]);
            Assert.Equal(0.5, run.Summary.Metrics[MetricNames.Sparsity], 6);
        }
        // Where the checkpoint goes is no part of the recipe's identity; what is measured is.
        var recipe = PruneSharp.Recipes.Recipe.Load(folder.File("prune-eval.yaml"));
        Assert.Equal(Path.GetFullPath(folder.File("pruned")), recipe.Llm!.Evaluation!.Checkpoint);
        Assert.Equal(recipe.Identity, PruneSharp.Recipes.Recipe.Load(folder.File("prune-eval.yaml"), [PruneSharp.Recipes.RecipeOverride.Parse($"export.path={folder.File("elsewhere")}")]).Identity);
        Assert.NotEqual(recipe.Identity, PruneSharp.Recipes.Recipe.Load(folder.File("prune-eval.yaml"), [PruneSharp.Recipes.RecipeOverride.Parse("evaluation.seqlen=16")]).Identity);

        File.WriteAllText(folder.File("bad.yaml"), $"model: {checkpoint}\nllm: {"{"}method: wanda, calibration: calibration.txt{"}"}\nevaluation: {"{"}text: missing.txt, seqlen: 0{"}"}\nexport: {"{"}path: out{"}"}\n");
        var problems = Problems(folder.File("bad.yaml"));
        Reported(problems, "bad.yaml:3:20: evaluation.text '");
        Reported(problems, "bad.yaml:3:41: evaluation.seqlen must be a positive finite number, got 0");
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public void The_llm_example_writes_a_2_4_checkpoint()
    {
        using var folder = new TempFolder();
        string recipe = Path.Combine(Repository.Root(), "examples", "llm-sparsegpt.yaml"), output = folder.File("pruned");
        var (code, _, error) = Invoke("run", recipe, "--set", $"export.path={output}", "--json", "--no-store");
        Assert.True(code == 0, error);
        var inspection = PruneSharp.Llm.CheckpointInspection.Of(output);
        Assert.NotEmpty(inspection.Linears);
        Assert.All(inspection.Linears, l => Assert.True(l.Valid2To4, $"layer {l.Layer} {l.Name} is not 2:4"));
        Assert.Equal(0.5, inspection.Sparsity, 3);
    }
}
