using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;
using static PruneSharp.Tests.Pipelines.CheckpointRecipes;

namespace PruneSharp.Tests.Pipelines;

/// <summary>
/// <c>llm eval</c>'s flags and a recipe's <c>evaluation</c> section describe the same <see cref="LlmEvaluationDescription"/>
/// and run through the same <see cref="LlmEvaluationPipeline"/>: they report the same perplexity, to the last bit.
/// </summary>
[Collection(SerialCollection.Name)]
public class LlmEvaluationPipelineTests
{
    static string Text(TempFolder folder) => CheckpointRecipes.Text(folder, "The rain in Spain stays mainly in the plain, said the professor twice. ");

    [Theory]
    [InlineData("llama-gqa-bf16-sharded", 32, 2)]
    [InlineData("opt-f32", 16, 8)]
    public void The_flags_and_the_equivalent_recipe_report_the_same_perplexity(string model, int seqlen, int batch)
    {
        using var folder = new TempFolder();
        string text = Text(folder), checkpoint = Fixture(model);
        var (code, output, error) = Invoke("llm", "eval", checkpoint, "--text", text, "--seqlen", $"{seqlen}", "--batch-size", $"{batch}", "--json");
        Assert.True(code == 0, error);
        var flags = JsonDocument.Parse(output).RootElement;
        File.WriteAllText(folder.File("eval.yaml"), $"model: {checkpoint}\nevaluation: {{text: calibration.txt, seqlen: {seqlen}, batch_size: {batch}}}\n");
        (code, output, error) = Invoke("run", folder.File("eval.yaml"), "--json", "--store", folder.File("runs.db"));
        Assert.True(code == 0, error);
        Assert.Equal(flags.GetRawText(), JsonDocument.Parse(output).RootElement.GetRawText());
        double perplexity = flags.GetProperty("perplexity").GetDouble();
        Assert.True(double.IsFinite(perplexity) && perplexity > 1, $"perplexity {perplexity}");
        Assert.Equal(Math.Exp(flags.GetProperty("meanNll").GetDouble()), perplexity, 9);

        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        Assert.Equal((RunStatus.Completed, LlmEvaluationPipeline.Method), (run.Summary.Status, run.Summary.Method));
        Assert.Equal(perplexity, run.Summary.Metrics[MetricNames.Perplexity]);
    }

    [Fact]
    public void Evaluation_keys_are_checked_at_their_line_and_column()
    {
        using var folder = new TempFolder();
        Text(folder);
        File.WriteAllText(folder.File("bad.yaml"), $"model: {Fixture("gpt2-f32")}\nevaluation:\n  text: missing.txt\n  seqlen: 0\n  batchsize: 2\nexport: {{path: out}}\n");
        var problems = Problems(folder.File("bad.yaml"));
        void Reported(string expected) => CheckpointRecipes.Reported(problems, expected);
        Reported("bad.yaml:3:9: evaluation.text '");
        Reported("missing.txt' is not a text file");
        Reported("bad.yaml:4:11: evaluation.seqlen must be a positive finite number, got 0");
        Reported("bad.yaml:5:3: unknown key 'evaluation.batchsize'");
        Reported("(did you mean batch_size?)");
        Reported("bad.yaml:6:1: export does not apply to an evaluation recipe");
        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public void The_verb_names_its_flag_in_a_bad_value()
    {
        using var folder = new TempFolder();
        var (code, _, error) = Invoke("llm", "eval", Fixture("gpt2-f32"), "--text", Text(folder), "--seqlen", "0");
        Assert.Equal(1, code);
        Assert.Contains("--seqlen must be a positive finite number, got 0", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
