using System.CommandLine;
using Google.Protobuf;
using PruneSharp.Cli;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Proto;
using PruneSharp.Tests.Data;
using PruneSharp.Tests.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary>
/// Issue 13's findings, each as a test: no wrong result with exit code 0, no crash, nothing left behind, and one
/// clear line for every refusal.
/// </summary>
[Collection(SerialCollection.Name)]
public class ReliabilityTests
{
    internal static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test")
        {
            TrainCommand.Create(), EvalCommand.Create(), PruneCommand.Create(), LthCommand.Create(), InspectCommand.Create(), CheckCommand.Create(),
        };
        return CliInvocation.Run(root, args);
    }

    /// <summary>The small CNN (input 'input' [batch, 3, 8, 8]) written after <paramref name="change"/>, bypassing our writer's checks.</summary>
    internal static string Model(TempFolder folder, string name, Action<ModelProto>? change = null)
    {
        var model = BadInputTests.SmallCnnModel();
        change?.Invoke(model);
        string path = folder.File(name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary>An IDX data folder of <paramref name="count"/> 28x28 images per split, labels i mod 10.</summary>
    internal static string Data(TempFolder folder, int count = 64)
    {
        string path = folder.File("data");
        Directory.CreateDirectory(path);
        var random = new Random(5);
        foreach (string prefix in new[] { "train", "t10k" })
        {
            var pixels = new byte[count * 28 * 28];
            random.NextBytes(pixels);
            IdxTests.WriteIdx(Path.Combine(path, $"{prefix}-images-idx3-ubyte"), [count, 28, 28], pixels);
            IdxTests.WriteIdx(Path.Combine(path, $"{prefix}-labels-idx1-ubyte"), [count], Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray());
        }
        return path;
    }

    static void AssertOneLine(int code, string error, string message)
    {
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", error);
    }

    static void AssertNoTemporaries(string folder) =>
        Assert.Empty(Directory.EnumerateFiles(folder, "*.tmp", SearchOption.AllDirectories));

    [Theory]
    [InlineData("prune lenet-300-100 --sparsity NaN", "--sparsity must be a finite number, got NaN")]
    [InlineData("prune lenet-300-100 --structured channel --ratio NaN", "--ratio must be a finite number, got NaN")]
    [InlineData("prune lenet-300-100 --structured channel --max-ratio NaN", "--max-ratio must be a finite number, got NaN")]
    [InlineData("prune lenet-300-100 --structured channel --max-ratio 0", "--max-ratio must be in (0, 1], got 0")]
    [InlineData("prune lenet-300-100 --sparsity 0.5 --lr Infinity", "--lr must be a finite number, got Infinity")]
    [InlineData("prune lenet-300-100 --sparsity 0.5 --momentum -1", "--momentum must be in [0, 1), got -1")]
    [InlineData("prune lenet-300-100 --structured channel --round-to 0", "--round-to must be at least 1, got 0")]
    [InlineData("lth --rate NaN --out x", "--rate must be a finite number, got NaN")]
    [InlineData("check model.onnx --tolerance -Infinity", "--tolerance must be a finite number, got -Infinity")]
    public void Numeric_options_refuse_NaN_infinity_and_out_of_range_values_by_name(string command, string message)
    {
        using var folder = new TempFolder();
        string[] args = command.Split(' ');
        var (code, _, error) = Invoke(args[0] == "prune" ? [.. args, "-o", folder.File("out.onnx")] : args);
        AssertOneLine(code, error, message);
        Assert.False(File.Exists(folder.File("out.onnx")));
    }

    [Fact]
    public void A_value_that_is_not_a_number_names_the_option_not_a_type()
    {
        var (code, _, error) = Invoke("prune", "lenet-300-100", "--sparsity", "abc", "-o", "x.onnx");
        AssertOneLine(code, error, "--sparsity: 'abc' is not a number");
        Assert.DoesNotContain("System.", error);
        (code, _, error) = Invoke("prune", "lenet-300-100", "--structured", "channel", "--round-to", "2.5", "-o", "x.onnx");
        AssertOneLine(code, error, "--round-to: '2.5' is not a whole number");
    }

    [Fact]
    public void Round_to_larger_than_every_group_is_refused_instead_of_pruning_nothing()
    {
        using var folder = new TempFolder();
        var (code, _, error) = Invoke("prune", "lenet-300-100", "--structured", "channel", "--round-to", "1000", "-o", folder.File("out.onnx"));
        AssertOneLine(code, error, "round-to 1000 is at least the size of every group (the largest has 300 channels): nothing would be removed");
        Assert.False(File.Exists(folder.File("out.onnx")));
    }

    [Theory]
    [InlineData("no-outputs", "the graph has no outputs")]
    [InlineData("misspelt-attribute", "node 'conv' (Conv) has attribute 'dilatiojs', which Conv does not have")]
    public void Models_that_ONNX_Runtime_would_refuse_are_not_written(string kind, string message)
    {
        using var folder = new TempFolder();
        string input = Model(folder, "in.onnx", m =>
        {
            if (kind == "no-outputs") m.Graph.Output.Clear();
            else m.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "dilatiojs", Type = 7, Ints = { 1, 1 } });
        });
        var (code, _, error) = Invoke("prune", input, "--sparsity", "0.5", "-o", folder.File("out.onnx"));
        AssertOneLine(code, error, message);
        Assert.False(File.Exists(folder.File("out.onnx")));
        AssertNoTemporaries(folder.Path);
    }

    [Fact]
    public void An_absurd_input_shape_fails_before_allocating_naming_the_input()
    {
        using var folder = new TempFolder();
        string model = Model(folder, "m.onnx");
        var (code, _, error) = Invoke("check", model, "--input-shape", "input=1000000000x3x8x8");
        AssertOneLine(code, error, "input 'input' of shape 1000000000x3x8x8 (Float32) needs");

        string declared = Model(folder, "huge.onnx", m => m.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = 1_000_000_000_000 });
        foreach (var args in new[]
        {
            new[] { "check", declared },
            new[] { "inspect", declared, "--structure" },
            new[] { "prune", declared, "--sparsity", "0.5", "-o", folder.File("out.onnx") },
            new[] { "prune", declared, "--structured", "channel", "-o", folder.File("out.onnx") },
        })
        {
            (code, _, error) = Invoke(args);
            AssertOneLine(code, error, "input 'input' of shape 1000000000000x3x8x8");
        }
        Assert.False(File.Exists(folder.File("out.onnx")));
    }

    [Fact]
    public void An_initializer_named_like_the_graph_input_is_named()
    {
        using var folder = new TempFolder();
        string model = Model(folder, "m.onnx", m => m.Graph.Initializer.Add(new TensorProto { Name = "input", DataType = 1, Dims = { 1, 3, 8, 8 }, RawData = ByteString.CopyFrom(new byte[4 * 3 * 64]) }));
        var (code, _, error) = Invoke("prune", model, "--sparsity", "0.5", "-o", folder.File("out.onnx"));
        AssertOneLine(code, error, "the model has no graph inputs to feed: a graph input that shares its name with an initializer");
        Assert.DoesNotContain("Index was out of range", error);
    }

    [Fact]
    public void A_self_loop_names_the_one_node_that_loops()
    {
        using var folder = new TempFolder();
        string model = Model(folder, "m.onnx", m => m.Graph.Node[2].Input[0] = m.Graph.Node[2].Output[0]);
        var (code, _, error) = Invoke("inspect", model, "--structure");
        AssertOneLine(code, error, "node 'relu' (Relu) reads its own output 'r'");
    }

    [Fact]
    public void An_empty_data_folder_is_named_as_such()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("empty"));
        var (code, _, error) = Invoke("train", "--model", "lenet-300-100", "--data", folder.File("empty"), "-o", folder.File("m.onnx"));
        AssertOneLine(code, error, "holds neither IDX files");
        Assert.Contains("the folder is empty", error);
        Assert.DoesNotContain("not found", error);
    }

    [Fact]
    public void Lth_refuses_to_resume_another_model_naming_it_and_restart_starts_afresh()
    {
        using var folder = new TempFolder();
        string data = Data(folder), output = folder.File("lth");
        string[] Args(string model, params string[] more) =>
            ["lth", "--model", model, "--data", data, "--rounds", "1", "--epochs", "1", "--batch-size", "32", "--out", output, "--json", .. more];
        var (code, first, error) = Invoke(Args("lenet-300-100"));
        Assert.True(code == 0, error);
        (code, _, error) = Invoke(Args("conv-2"));
        AssertOneLine(code, error, "--model: was lenet-300-100, now conv-2");
        Assert.Contains("model.hash: was ", error);
        (code, _, error) = Invoke(Args("lenet-300-100", "--lr", "0.02"));
        AssertOneLine(code, error, "--lr: was 0.01, now 0.02");
        (code, var again, error) = Invoke(Args("lenet-300-100"));
        Assert.True(code == 0, error);
        Assert.Contains("\"reused\": true", again);
        (code, var fresh, error) = Invoke(Args("conv-2", "--restart"));
        Assert.True(code == 0, error);
        Assert.DoesNotContain("\"reused\": true", fresh);
        AssertNoTemporaries(output);
    }

    [Fact]
    public void Train_refuses_to_resume_a_checkpoint_made_under_other_settings()
    {
        using var folder = new TempFolder();
        string data = Data(folder), output = folder.File("m.onnx");
        var (code, _, error) = Invoke("train", "--model", "lenet-300-100", "--data", data, "--epochs", "1", "--batch-size", "32", "-o", output);
        Assert.True(code == 0, error);
        Assert.True(File.Exists(output + ".ckpt"));
        (code, _, error) = Invoke("train", "--model", "lenet-300-100", "--data", data, "--epochs", "1", "--batch-size", "32", "--lr", "0.1", "--resume", "-o", output);
        AssertOneLine(code, error, "--lr: was 0.01, now 0.1");
        (code, _, error) = Invoke("train", "--model", "lenet-5", "--data", data, "--epochs", "1", "--batch-size", "32", "--resume", "-o", output);
        AssertOneLine(code, error, "--model: was lenet-300-100, now lenet-5");
        (code, _, error) = Invoke("train", "--model", "lenet-300-100", "--data", data, "--epochs", "2", "--batch-size", "32", "--resume", "-o", output);
        AssertOneLine(code, error, "--epochs: was 1, now 2");
        (code, _, error) = Invoke("train", "--model", "lenet-300-100", "--data", data, "--epochs", "1", "--batch-size", "32", "--resume", "-o", output);
        Assert.True(code == 0, error);
    }

    [Fact]
    public void Every_model_the_commands_write_loads_and_runs_in_ONNX_Runtime()
    {
        using var folder = new TempFolder();
        string data = Data(folder);
        var written = new List<string>();
        void Run(string name, params string[] args)
        {
            var (code, _, error) = Invoke([.. args, "-o", folder.File(name)]);
            Assert.True(code == 0, $"{name}: {error}");
            written.Add(folder.File(name));
        }
        Run("trained.onnx", "train", "--model", "lenet-5", "--data", data, "--epochs", "1", "--batch-size", "32");
        Run("unstructured.onnx", "prune", folder.File("trained.onnx"), "--sparsity", "0.7");
        Run("nm.onnx", "prune", "lenet-300-100", "--granularity", "2:4");
        Run("channels.onnx", "prune", folder.File("trained.onnx"), "--structured", "channel", "--ratio", "0.5", "--round-to", "2");
        Run("blocks.onnx", "prune", "resnet-20", "--structured", "block", "--blocks", "2");
        Run("heads.onnx", "prune", TinyGptFile(folder), "--structured", "head", "--ratio", "0.5");
        foreach (string path in written)
        {
            var report = RuntimeCheck.Run(path, new RuntimeCheckOptions { Samples = 1, IntHigh = 10 });
            Assert.True(report.Passed, $"{Path.GetFileName(path)}: {string.Join("; ", report.Outputs.Select(o => o.Problem ?? o.MaxAbsDiff.ToString()))}");
        }
        AssertNoTemporaries(folder.Path);
    }

    static string TinyGptFile(TempFolder folder)
    {
        string path = folder.File("gpt.onnx");
        using var model = PruneSharp.Models.TinyGpt.Create(new PruneSharp.Models.TinyGptOptions(ContextLength: 16, Layers: 1, Heads: 2, Width: 16));
        OnnxFile.Save(model, path);
        return path;
    }
}
