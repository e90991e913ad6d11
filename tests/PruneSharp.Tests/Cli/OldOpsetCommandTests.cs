using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary>
/// The CNN featurizer exported at opset 8 by an older exporter (weights not among the graph inputs):
/// <c>check</c>, <c>inspect</c> and <c>prune</c> work on it, and <c>--keep-opset</c> writes opset 8 back.
/// </summary>
[Collection(SerialCollection.Name)]
public class OldOpsetCommandTests
{
    static readonly string Featurizer = Path.Combine(AppContext.BaseDirectory, "Onnx", "Fixtures", "featurizer-opset8.onnx");

    static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test") { CheckCommand.Create(), InspectCommand.Create(), PruneCommand.Create() };
        return CliInvocation.Run(root, args);
    }

    [Fact]
    public void Check_runs_the_original_file_in_onnx_runtime_and_says_it_was_upgraded()
    {
        var (code, output, error) = Invoke("check", Featurizer, "--samples", "2");
        Assert.True(code == 0, output + error);
        Assert.Contains("(opset 8, upgraded to 11 on import)", output);
        Assert.EndsWith("PASS", output.TrimEnd());
    }

    [Fact]
    public void Inspect_shows_both_opsets_and_the_structure()
    {
        var (code, output, error) = Invoke("inspect", Featurizer, "--structure");
        Assert.True(code == 0, output + error);
        Assert.Contains("opset    8, upgraded to 11 on import", output);
        Assert.Contains("input    image", output);
        Assert.Contains("Resize", output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Prune_writes_opset_11_or_with_keep_opset_the_original(bool keep)
    {
        using var folder = new TempFolder();
        var args = new List<string> { "prune", Featurizer, "--structured", "channel", "--ratio", "0.3", "-o", folder.File("small.onnx") };
        if (keep) args.Add("--keep-opset");
        var (code, output, error) = Invoke(args.ToArray());
        Assert.True(code == 0, output + error);
        var written = OnnxFile.Read(folder.File("small.onnx"));
        Assert.Equal(keep ? 8 : (int?)null, written.SourceOpset);
        Assert.True(written.Initializers.Values.Sum(w => w.numel()) < OnnxFile.Read(Featurizer).Initializers.Values.Sum(w => w.numel()));
        Assert.True(RuntimeCheck.Run(folder.File("small.onnx"), new RuntimeCheckOptions { Samples = 2 }).Passed);

        var (sparseCode, _, sparseError) = Invoke("prune", Featurizer, "--sparsity", "0.5", "-o", folder.File("sparse.onnx"));
        Assert.True(sparseCode == 0, sparseError);
        Assert.Equal(11, OnnxFile.Read(folder.File("sparse.onnx")).Opset);
    }
}
