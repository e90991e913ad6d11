using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli;
using PruneSharp.Cli.Commands;
using PruneSharp.Tests.Llm.Models;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary><c>prunesharp llm</c> in-process: results as JSON, bad input as one line and exit code 1.</summary>
[Collection(SerialCollection.Name)]
public class LlmCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test") { LlmCommand.Create() };
        return CliInvocation.Run(root, args);
    }

    static string Fixture(string name) => Path.Combine(TransformersReferenceTests.Folder, name);

    [Fact]
    public void Prune_eval_and_inspect_a_checkpoint()
    {
        using var temp = new TempFolder();
        string text = temp.File("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("And God said, Let there be light: and there was light. And God saw the light, that it was good. ", 20)));
        var (code, output, error) = Invoke("llm", "prune", Fixture("llama-gqa-bf16-sharded"), "--method", "wanda", "--sparsity", "4:8",
            "--calibration", text, "--nsamples", "4", "--seqlen", "64", "--json", "-o", temp.File("out"));
        Assert.True(code == 0, error);
        using (var report = JsonDocument.Parse(output))
            Assert.Equal(0.5, report.RootElement.GetProperty("Sparsity").GetDouble(), 3);

        (code, output, error) = Invoke("llm", "eval", temp.File("out"), "--text", text, "--seqlen", "64", "--json");
        Assert.True(code == 0, error);
        using (var result = JsonDocument.Parse(output))
        {
            Assert.True(result.RootElement.GetProperty("perplexity").GetDouble() > 1);
            Assert.True(result.RootElement.GetProperty("windows").GetInt32() >= 1);
            Assert.True(result.RootElement.GetProperty("tokens").GetInt64() >= 64);
        }

        (code, output, error) = Invoke("llm", "inspect", temp.File("out"), "--json");
        Assert.True(code == 0, error);
        using var inspection = JsonDocument.Parse(output);
        Assert.StartsWith("llama", inspection.RootElement.GetProperty("Description").GetString());
        var linears = inspection.RootElement.GetProperty("Linears").EnumerateArray().ToList();
        Assert.Equal(14, linears.Count);
        Assert.All(linears, l => Assert.True(l.GetProperty("Valid4To8").GetBoolean()));
    }

    [Fact]
    public void Generate_from_a_pruned_checkpoint_gives_the_same_tokens_dense_and_sparse()
    {
        using var temp = new TempFolder();
        string text = temp.File("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("And God said, Let there be light: and there was light. ", 20)));
        var (code, _, error) = Invoke("llm", "prune", Fixture("llama-gqa-bf16-sharded"), "--method", "magnitude", "--sparsity", "0.7",
            "--calibration", text, "--nsamples", "2", "--seqlen", "32", "--json", "-o", temp.File("out"));
        Assert.True(code == 0, error);
        JsonElement Generate(params string[] extra)
        {
            var (code, output, error) = Invoke(["llm", "generate", temp.File("out"), "--prompt", "And God said", "--tokens", "6", "--threads", "1", "--json", .. extra]);
            Assert.True(code == 0, error);
            return JsonDocument.Parse(output).RootElement;
        }
        var dense = Generate();
        var sparse = Generate("--sparse");
        Assert.Equal(dense.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()), sparse.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal(6, sparse.GetProperty("tokens").GetArrayLength());
        Assert.All(dense.GetProperty("projections").EnumerateArray(), p => Assert.Equal("dense", p.GetProperty("format").GetString()));
        Assert.All(sparse.GetProperty("projections").EnumerateArray(), p => Assert.Equal("bitmap", p.GetProperty("format").GetString()));
        Assert.True(sparse.GetProperty("weightBytesPerToken").GetInt64() < dense.GetProperty("weightBytesPerToken").GetInt64());

        var (badCode, _, badError) = Invoke("llm", "generate", temp.File("out"), "--prompt", "x", "--tokens", "0");
        Assert.Equal(1, badCode);
        Assert.Contains("--tokens must be a positive", badError);
    }

    [Theory]
    [InlineData("--sparsity", "1.5", "--sparsity")]
    [InlineData("--sparsity", "4:2", "--sparsity")]
    [InlineData("--method", "obs", "--method must be one of magnitude, wanda, sparsegpt")]
    [InlineData("--allocation", "owl", "N:M patterns are the same in every layer")]
    [InlineData("--nsamples", "0", "--nsamples must be a positive")]
    public void Prune_refuses_bad_options_with_one_line(string option, string value, string message)
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("t.txt"), "text");
        string[] pattern = option == "--allocation" ? ["--sparsity", "2:4"] : [];
        var (code, _, error) = Invoke(["llm", "prune", Fixture("gpt2-f32"), "--calibration", temp.File("t.txt"), "-o", temp.File("out"), .. pattern, option, value]);
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void Depth_removes_the_given_layers()
    {
        using var temp = new TempFolder();
        string text = temp.File("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("In the beginning God created the heaven and the earth. ", 20)));
        var (code, output, error) = Invoke("llm", "depth", Fixture("llama-gqa-bf16-sharded"), "--layers", "1", "--calibration", text,
            "--nsamples", "2", "--seqlen", "32", "--json", "-o", temp.File("out"));
        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        Assert.Equal([1], report.RootElement.GetProperty("removed").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Theory]
    [InlineData(new string[0], "give either --remove N")]
    [InlineData(new[] { "--remove", "1", "--layers", "0" }, "give either --remove N")]
    [InlineData(new[] { "--layers", "0,x" }, "'x' is not a layer index")]
    [InlineData(new[] { "--layers", "7" }, "layer 7 does not exist")]
    public void Depth_refuses_a_bad_layer_choice_with_one_line(string[] choice, string message)
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("t.txt"), "text");
        var (code, _, error) = Invoke(["llm", "depth", Fixture("gpt2-f32"), "--calibration", temp.File("t.txt"), "-o", temp.File("out"), .. choice]);
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void A_folder_that_is_not_a_checkpoint_is_named()
    {
        using var temp = new TempFolder();
        var (code, _, error) = Invoke("llm", "inspect", temp.Path);
        Assert.Equal(1, code);
        Assert.Contains(temp.Path, error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
