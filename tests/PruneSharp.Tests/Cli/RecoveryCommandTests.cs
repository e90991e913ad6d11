using System.CommandLine;
using System.IO.Compression;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary><c>prune --recover distill</c> and <c>eval --reference</c>, in-process, on a small slice of Fashion-MNIST.</summary>
[Collection(SerialCollection.Name)]
public class RecoveryCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { EvalCommand.Create(), PruneCommand.Create() }, args);

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void Distillation_brings_a_channel_pruned_model_closer_to_the_dense_one_as_eval_reference_measures()
    {
        using var folder = new TempFolder();
        string data = FashionMnistSlice(folder.File("fm"), train: 512, test: 256);
        string dense = folder.File("dense.onnx"), plain = folder.File("plain.onnx"), distilled = folder.File("distilled.onnx");
        using (var model = ModelZoo.CreateClassifier("lenet-5", new ClassifierOptions(Seed: 0))) OnnxFile.Save(model, dense);
        string[] prune = ["prune", dense, "--structured", "channel", "--ratio", "0.5", "--data", data, "--batch-size", "32"];

        var (code, _, error) = Invoke([.. prune, "-o", plain]);
        Assert.True(code == 0, error);
        (code, var output, error) = Invoke([.. prune, "--recover", "distill", "--finetune-epochs", "3", "--optimizer", "adam", "--lr", "0.003", "--json", "-o", distilled]);
        Assert.True(code == 0, error);
        var run = JsonDocument.Parse(output).RootElement.GetProperty("input").GetProperty("distillation")[0];
        Assert.Equal("kl", run.GetProperty("outputs")[0].GetProperty("loss").GetString());
        Assert.True(run.GetProperty("loss_after").GetDouble() < 0.5 * run.GetProperty("loss_before").GetDouble(), output);

        double Cosine(string model, out double agreement)
        {
            var (c, o, e) = Invoke("eval", model, "--reference", dense, "--data", data, "--json");
            Assert.True(c == 0, e);
            var first = JsonDocument.Parse(o).RootElement.GetProperty("outputs")[0];
            Assert.Equal("logits", first.GetProperty("kind").GetString());
            agreement = first.GetProperty("top1_agreement").GetDouble();
            return first.GetProperty("mean_cosine").GetDouble();
        }
        Assert.Equal(1, Cosine(dense, out double self), 6);
        Assert.Equal(1, self);
        double before = Cosine(plain, out _), after = Cosine(distilled, out _);
        Assert.True(after > before, $"mean cosine to the dense model: {before} without distillation, {after} with");

        (code, output, error) = Invoke("eval", distilled, "--reference", dense, "--data", data);
        Assert.True(code == 0, error);
        Assert.Contains("top-1 agreement", output);
        Assert.Contains("on 256 test inputs (labels unused)", output);
    }

    [Theory]
    [InlineData("--recover none --finetune-epochs 1 --data fashion-mnist", "--recover none trains nothing")]
    [InlineData("--recover distill", "--recover distill needs --data (inputs) and --finetune-epochs N")]
    [InlineData("--recover teach", "--recover 'teach' is not one of finetune, distill, none")]
    [InlineData("--temperature 2", "--distill-loss, --temperature and --distill-features go with --recover distill")]
    [InlineData("--recover distill --finetune-epochs 1 --data fashion-mnist --temperature 0", "--temperature must be")]
    [InlineData("--recover distill --finetune-epochs 1 --data fashion-mnist --distill-loss hinge", "--distill-loss 'hinge' is not one of")]
    public void Prune_refuses_bad_recovery_settings_with_one_line(string options, string message)
    {
        using var folder = new TempFolder();
        var (code, _, error) = Invoke(["prune", "lenet-5", "--structured", "channel", "--ratio", "0.5", .. options.Split(' '), "-o", folder.File("p.onnx")]);
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(File.Exists(folder.File("p.onnx")));
    }

    [Fact]
    public void Eval_reference_refuses_models_whose_outputs_differ()
    {
        using var folder = new TempFolder();
        using (var model = ModelZoo.CreateClassifier("lenet-5", new ClassifierOptions(Seed: 0))) OnnxFile.Save(model, folder.File("a.onnx"));
        var (code, _, error) = Invoke("eval", folder.File("a.onnx"), "--reference", folder.File("missing.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("--reference model file not found", error);
    }

    /// <summary>The first examples of Fashion-MNIST's splits as an IDX folder (uncompressed), for quick CLI runs.</summary>
    static string FashionMnistSlice(string folder, int train, int test)
    {
        Directory.CreateDirectory(folder);
        foreach (var (prefix, count) in new[] { ("train", train), ("t10k", test) })
            foreach (var (kind, bytesPerItem) in new[] { ("images-idx3-ubyte", 28 * 28), ("labels-idx1-ubyte", 1) })
            {
                using var source = new GZipStream(File.OpenRead(Path.Combine(DataLocations.DebianFashionMnist, $"{prefix}-{kind}.gz")), CompressionMode.Decompress);
                var header = new byte[kind.StartsWith("images") ? 16 : 8];
                source.ReadExactly(header);
                header[4] = (byte)(count >> 24); header[5] = (byte)(count >> 16); header[6] = (byte)(count >> 8); header[7] = (byte)count;
                var body = new byte[count * bytesPerItem];
                source.ReadExactly(body);
                File.WriteAllBytes(Path.Combine(folder, $"{prefix}-{kind}"), [.. header, .. body]);
            }
        return folder;
    }
}
