using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Recipes;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Recipes;

/// <summary>
/// Structured stages (channel, head, block) are one library pipeline with two faces: <c>prune --structured</c> flags
/// and a recipe with the same choices describe the same pipeline and write the same bytes; the stage keys are
/// validated at their line and column with the nearest names.
/// </summary>
[Collection(SerialCollection.Name)]
public class StructuredRecipeTests
{
    static readonly string Encoder = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures", "bert_tiny_opset14.onnx");

    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { RunCommand.Create(), PruneCommand.Create() }, args);

    public static TheoryData<string, string, string> Routes => new()
    {
        {
            "lenet-5",
            "--structured channel --method l1 --ratio 0.5 --round-to 2 --global --ignore fc3",
            "{structure: channel, method: l1, ratio: 0.5, round_to: 2, global: true, ignore: [fc3]}"
        },
        {
            Encoder,
            "--structured head --method l2 --ratio 0.25 --ffn-ratio 0.5 --shape input_ids=1x32",
            "{structure: head, method: l2, ratio: 0.25, ffn_ratio: 0.5}"
        },
        {
            "resnet-20",
            "--structured block --method norm --blocks 2",
            "{structure: block, method: norm, blocks: 2}"
        },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public void A_structured_flag_set_and_its_recipe_describe_the_same_pipeline_and_write_the_same_bytes(string model, string flags, string stage)
    {
        using var folder = new TempFolder();
        string inputs = flags.Contains("--shape") ? "inputs: {shape: [input_ids=1x32]}\n" : "";
        File.WriteAllText(folder.File("r.yaml"), $"model: {model}\n{inputs}stages:\n  - {stage}\nrecovery: {{kind: none}}\nexport: {{path: from-recipe.onnx}}\n");
        var (code, _, error) = Invoke("run", folder.File("r.yaml"), "--store", folder.File("recipe.db"));
        Assert.True(code == 0, error);
        (code, _, error) = Invoke(["prune", model, .. flags.Split(' '), "--recover", "none", "--store", folder.File("prune.db"), "-o", folder.File("from-flags.onnx")]);
        Assert.True(code == 0, error);

        var fromFlags = FlagsAndRecipe.AssertAlike(folder);

        // The metrics are those of the file: its parameters, and the fraction of the dense model's removed.
        using var written = OnnxFile.Load(folder.File("from-flags.onnx"));
        long parameters = written.parameters().Sum(p => p.numel());
        Assert.Equal(parameters, (long)fromFlags.Metrics[MetricNames.Parameters]);
        Assert.Equal(1 - parameters / fromFlags.Metrics[MetricNames.DenseParameters], fromFlags.Metrics[MetricNames.Sparsity], 9);
        Assert.True(fromFlags.Metrics[MetricNames.Sparsity] > 0);
    }

    [Fact]
    public void Structured_stage_keys_are_checked_at_their_line_and_column_with_the_nearest_names()
    {
        const string text = """
            model: lenet-5
            stages:
              - structure: haed
                method: l2
                ratio: 0.5
              - structure: block
                method: influense
                ratio: 0.5
                blocks: 2
                round_to: 8
              - structure: channel
                method: fpgm
                ratio: 0.5
                hidden_ratio: 0.5
                aggregate: max
                ffn_ratio: 0.5
                calibration: 16
              - method: magnitude
                sparsity: 0.5
                steps: 2
            """;
        var problems = Assert.Throws<RecipeException>(() => Recipe.Parse(text, "s.yaml")).Problems.Select(p => p.ToString()).ToList();
        void Reported(string expected) => Assert.Contains(problems, p => p.Contains(expected));
        Reported("s.yaml:3:16: stages[0].structure 'haed' is not one of channel, head, block");
        Reported("(did you mean head?)");
        Reported("s.yaml:7:13: stages[1].method 'influense' is not one of norm, influence, random");
        Reported("(did you mean influence?)");
        Reported("s.yaml:8:12: stages[1].ratio and stages[1].blocks both say how many blocks go");
        Reported("s.yaml:10:15: stages[1].round_to does not apply to a block stage");
        Reported("s.yaml:14:19: stages[2].hidden_ratio needs stages[2].approximate");
        Reported("s.yaml:15:16: stages[2].aggregate and stages[2].include_readers apply to stages[2].method l1 and l2, not 'fpgm'");
        Reported("s.yaml:16:16: stages[2].ffn_ratio goes with stages[2].structure head");
        Reported("s.yaml:17:18: stages[2].calibration needs data");
        Reported("s.yaml:20:12: stages[3].steps applies to structured stages");
        Assert.Equal(9, problems.Count);
    }

    [Fact]
    public void The_heads_example_removes_a_quarter_of_the_heads_and_half_the_ffn_width()
    {
        using var folder = new TempFolder();
        string recipe = Path.Combine(Repository.Root(), "examples", "heads.yaml"), output = folder.File("heads.onnx");
        var (code, text, error) = Invoke("run", recipe, "--set", $"export.path={output}", "--json", "--no-store");
        Assert.True(code == 0, error);
        var stage = JsonDocument.Parse(text).RootElement.GetProperty("stages")[0];
        Assert.Equal("head", stage.GetProperty("structure").GetString());
        var graph = OnnxFile.Read(output);
        long[] Weight(string node) => graph.Initializers[graph.Nodes.Single(n => n.Name == node).Inputs[1]].shape;
        for (int layer = 0; layer < 2; layer++)
        {
            Assert.Equal(new long[] { 32, 24 }, Weight($"/layers.{layer}/query/MatMul")); // 3 of 4 heads of 8
            Assert.Equal(new long[] { 32, 64 }, Weight($"/layers.{layer}/intermediate/MatMul")); // half of 128
        }
        Assert.Equal(new[] { "input_ids", "attention_mask", "token_type_ids" }, graph.Inputs.Select(i => i.Name));
        using var written = OnnxFile.Load(output);
        Assert.Equal(written.parameters().Sum(p => p.numel()), stage.GetProperty("params_after").GetInt64());
    }
}
