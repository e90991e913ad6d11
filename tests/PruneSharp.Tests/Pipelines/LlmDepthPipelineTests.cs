using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;
using static PruneSharp.Tests.Pipelines.CheckpointRecipes;

namespace PruneSharp.Tests.Pipelines;

/// <summary>
/// <c>llm depth</c>'s flags and a recipe's <c>llm</c> section with <c>method: shortgpt</c> describe the same
/// <see cref="LlmDepthDescription"/> and run through the same <see cref="LlmDepthPipeline"/>: with the same seed they
/// measure the same Block Influence and write the same checkpoint, byte for byte.
/// </summary>
[Collection(SerialCollection.Name)]
public class LlmDepthPipelineTests
{
    static string Text(TempFolder folder) => CheckpointRecipes.Text(folder, "In the beginning God created the heaven and the earth. And the earth was without form, and void. ");

    [Theory]
    [InlineData("llama-gqa-bf16-sharded", "--remove", "1", "remove: 1")]
    [InlineData("gpt2-f32", "--layers", "0", "layers: [0]")]
    [InlineData("qwen2-gqa-bf16", "--remove", "1", "remove: 1")]
    public void The_flags_and_the_equivalent_recipe_write_the_same_checkpoint(string model, string flag, string value, string key)
    {
        using var folder = new TempFolder();
        string text = Text(folder), checkpoint = Fixture(model);
        var (code, output, error) = Invoke("llm", "depth", checkpoint, flag, value, "--calibration", text, "--nsamples", "4", "--seqlen", "32", "--seed", "3",
            "--json", "--no-store", "-o", folder.File("flags"));
        Assert.True(code == 0, error);
        var flags = JsonDocument.Parse(output).RootElement;
        File.WriteAllText(folder.File("depth.yaml"), $"""
            model: {checkpoint}
            seed: 3
            llm:
              method: shortgpt
              {key}
              calibration: calibration.txt
              nsamples: 4
              seqlen: 32
            export: {"{"}path: recipe{"}"}
            """);
        (code, output, error) = Invoke("run", folder.File("depth.yaml"), "--json", "--no-store");
        Assert.True(code == 0, error);
        var recipe = JsonDocument.Parse(output).RootElement;
        foreach (string property in new[] { "blockInfluence", "removed" })
            Assert.Equal(flags.GetProperty(property).GetRawText(), recipe.GetProperty(property).GetRawText());
        Assert.Equal(1, recipe.GetProperty("removed").GetArrayLength());
        SameFiles(folder.File("flags"), folder.File("recipe"));
    }

    [Fact]
    public void A_shortgpt_recipe_with_an_evaluation_section_measures_the_shallower_checkpoint()
    {
        using var folder = new TempFolder();
        Text(folder);
        File.WriteAllText(folder.File("depth-eval.yaml"), $"""
            model: {Fixture("gpt2-f32")}
            llm: {"{"}method: shortgpt, remove: 1, calibration: calibration.txt, nsamples: 2, seqlen: 32{"}"}
            evaluation: {"{"}text: calibration.txt, seqlen: 32{"}"}
            export: {"{"}path: shallower{"}"}
            """);
        var (code, output, error) = Invoke("run", folder.File("depth-eval.yaml"), "--json", "--store", folder.File("runs.db"));
        Assert.True(code == 0, error);
        var measured = JsonDocument.Parse(output).RootElement.GetProperty("evaluation");
        (code, output, error) = Invoke("llm", "eval", folder.File("shallower"), "--text", folder.File("calibration.txt"), "--seqlen", "32", "--json");
        Assert.True(code == 0, error);
        Assert.Equal(JsonDocument.Parse(output).RootElement.GetProperty("perplexity").GetDouble(), measured.GetProperty("perplexity").GetDouble());
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        Assert.Equal((RunStatus.Completed, 1.0), (run.Summary.Status, run.Summary.Metrics["layers_removed"]));
        Assert.Equal(measured.GetProperty("perplexity").GetDouble(), run.Summary.Metrics[MetricNames.Perplexity]);
    }

    [Fact]
    public void Depth_keys_are_checked_at_their_line_and_column_with_the_nearest_names()
    {
        using var folder = new TempFolder();
        Text(folder);
        List<string> Problems(string name, string llm)
        {
            File.WriteAllText(folder.File(name), $"model: {Fixture("gpt2-f32")}\nllm:\n{llm}export: {{path: out}}\n");
            return CheckpointRecipes.Problems(folder.File(name));
        }
        var problems = Problems("bad.yaml", "  method: shortgpt\n  sparsity: \"0.5\"\n  layers: [0, x]\n  calibration: calibration.txt\n  nsamples: 0\n");
        void Reported(string expected) => CheckpointRecipes.Reported(problems, expected);
        Reported("bad.yaml:4:3: llm.sparsity does not apply to llm.method shortgpt");
        Reported("bad.yaml:5:11: llm.layers: 'x' is not a layer index");
        Reported("bad.yaml:7:13: llm.nsamples must be a positive finite number, got 0");
        Assert.Equal(3, problems.Count);

        problems = Problems("typo.yaml", "  method: shortgp\n  remove: 1\n  calibration: calibration.txt\n");
        Reported("typo.yaml:3:11: llm.method must be one of magnitude, wanda, sparsegpt, shortgpt; got 'shortgp' (did you mean shortgpt?)");
        Reported("typo.yaml:4:3: llm.remove applies to llm.method shortgpt only");

        problems = Problems("both.yaml", "  method: shortgpt\n  remove: 1\n  layers: 0\n  calibration: calibration.txt\n");
        Reported("give either llm.remove N");
        Assert.Single(problems);
    }

    [Fact]
    public void A_depth_prune_records_one_step_per_layer_and_its_files()
    {
        using var folder = new TempFolder();
        string text = Text(folder);
        var (code, output, error) = Invoke("llm", "depth", Fixture("llama-gqa-bf16-sharded"), "--remove", "1", "--calibration", text,
            "--nsamples", "2", "--seqlen", "32", "--json", "--store", folder.File("runs.db"), "-o", folder.File("out"));
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        var influence = report.GetProperty("blockInfluence").EnumerateArray().Select(e => e.GetDouble()).ToList();
        int removed = Assert.Single(report.GetProperty("removed").EnumerateArray().Select(e => e.GetInt32()));
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        Assert.Equal((RunStatus.Completed, "llm depth", "shortgpt"), (run.Summary.Status, run.Summary.Kind, run.Summary.Method));
        Assert.Equal(influence, run.Steps.Where(s => s.Name == "block_influence").OrderBy(s => s.Step).Select(s => s.Value));
        Assert.Equal([removed], run.Steps.Where(s => s.Name == "removed" && s.Value == 1).Select(s => (int)s.Step));
        Assert.Equal((1.0, influence.Count - 1.0), (run.Summary.Metrics["layers_removed"], run.Summary.Metrics["layers_kept"]));
        Assert.Equal(Directory.GetFiles(folder.File("out")).Length, run.Artifacts.Count(a => a.Role == "checkpoint"));
    }

    [Fact]
    public void The_shortgpt_example_removes_the_layer_of_lowest_influence()
    {
        using var folder = new TempFolder();
        string recipe = Path.Combine(Repository.Root(), "examples", "llm-shortgpt.yaml"), output = folder.File("shallow");
        var (code, json, error) = Invoke("run", recipe, "--set", $"export.path={output}", "--json", "--no-store");
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(json).RootElement;
        var influence = report.GetProperty("blockInfluence").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal([influence.IndexOf(influence.Min())], report.GetProperty("removed").EnumerateArray().Select(e => e.GetInt32()));
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "config.json"))).RootElement;
        Assert.Equal(influence.Count - 1, config.GetProperty("num_hidden_layers").GetInt32());
        var inspection = PruneSharp.Llm.CheckpointInspection.Of(output);
        Assert.Equal(influence.Count - 1, inspection.Linears.Select(l => l.Layer).Distinct().Count());
    }
}
