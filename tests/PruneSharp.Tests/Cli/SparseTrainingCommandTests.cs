using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Cli;

/// <summary><c>train</c> with the during-training flags, on a tiny IDX data set (seconds).</summary>
[Collection(SerialCollection.Name)]
public class SparseTrainingCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test") { TrainCommand.Create(), PruneCommand.Create() };
        return CliInvocation.Run(root, args);
    }

    static string[] Train(string data, string model, string output, params string[] extra) =>
        new[] { "train", "--model", model, "--data", data, "--epochs", "1", "--batch-size", "16", "--threads", "2", "-o", output }.Concat(extra).ToArray();

    /// <summary>Zeros and size of the ONNX model's layer weights (rank 2 or more).</summary>
    static (long Zeros, long Total) LayerZeros(string path)
    {
        var graph = OnnxFile.Read(path);
        var weights = graph.Initializers.Values.Where(w => w.dim() >= 2 && w.is_floating_point()).ToList();
        return (weights.Sum(w => w.numel() - w.count_nonzero().item<long>()), weights.Sum(w => w.numel()));
    }

    [Theory]
    [InlineData("rigl")]
    [InlineData("set")]
    public void Dynamic_sparse_training_writes_a_model_at_the_sparsity(string method)
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 64), output = folder.File("sparse.onnx");
        var (code, text, error) = Invoke(Train(data, "lenet-5", output, "--sparse-training", method, "--sparsity", "0.9", "--update-every", "1"));
        Assert.True(code == 0, error);
        Assert.Contains($"sparse training: {method} at 90.00% sparsity", text);
        Assert.Contains("topology updates: 2", text);
        // At least the inactive 90% are zero; a few active weights may be zero too (grown into a dead unit at the last update).
        var (zeros, total) = LayerZeros(output);
        Assert.InRange(zeros / (double)total, 0.895, 0.93);
    }

    [Fact]
    public void Soft_filter_pruning_and_network_surgery_leave_their_zeros_in_the_written_model()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 64);
        var (code, text, error) = Invoke(Train(data, "lenet-5", folder.File("sfp.onnx"), "--soft-filter-pruning", "0.5"));
        Assert.True(code == 0, error);
        var graph = OnnxFile.Read(folder.File("sfp.onnx"));
        var conv1 = graph.Initializers["conv1.weight"];
        Assert.Equal(3, linalg.vector_norm(conv1, 2, new long[] { 1, 2, 3 }).eq(0).sum().item<long>());
        Assert.Contains("filters all zero", text);

        (code, text, error) = Invoke(Train(data, "lenet-5", folder.File("dns.onnx"), "--network-surgery", "--sparsity", "0.8", "--json"));
        Assert.True(code == 0, error);
        var (zeros, total) = LayerZeros(folder.File("dns.onnx"));
        Assert.InRange(zeros / (double)total, 0.6, 0.95);
        Assert.Contains("\"sparse_training\"", text);
    }

    [Fact]
    public void Network_slimming_then_bn_scale_pruning_removes_channels()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 32), trained = folder.File("slim.onnx"), pruned = folder.File("slim-pruned.onnx");
        var (code, text, error) = Invoke(Train(data, "resnet-20", trained, "--regularize", "bn-scale", "--penalty", "1e-3", "--penalty-warmup", "0.5"));
        Assert.True(code == 0, error);
        Assert.Contains("sparse training: penalty bn-scale λ=0.001 after a 1-step warm-up", text);
        (code, _, error) = Invoke("prune", trained, "--structured", "channel", "--method", "bn-scale", "--ratio", "0.5", "-o", pruned);
        Assert.True(code == 0, error);
        long before = OnnxFile.Read(trained).Initializers.Values.Sum(w => w.numel()), after = OnnxFile.Read(pruned).Initializers.Values.Sum(w => w.numel());
        Assert.True(after < 0.6 * before, $"{after} of {before} parameters left");
    }

    [Theory]
    [InlineData("--sparse-training rigl", "--sparse-training needs --sparsity S")]
    [InlineData("--sparse-training foo --sparsity 0.5", "--sparse-training 'foo' is not rigl or set")]
    [InlineData("--update-every 5", "--update-every and --drop-fraction need --sparse-training rigl|set")]
    [InlineData("--update-every 0 --sparse-training set --sparsity 0.5", "--update-every must be at least 1, got 0")]
    [InlineData("--drop-fraction 1.5 --sparse-training set --sparsity 0.5", "--drop-fraction must be in [0, 1], got 1.5")]
    [InlineData("--soft-filter-pruning 0.3 --network-surgery --sparsity 0.5", "exclude each other")]
    [InlineData("--soft-filter-pruning 1", "--soft-filter-pruning must be in [0, 1), got 1")]
    [InlineData("--regularize l2", "--regularize 'l2' is not one of l1, group-lasso, bn-scale")]
    [InlineData("--penalty 0.1", "need --regularize")]
    [InlineData("--penalty -1 --regularize l1", "--penalty must be at least 0, got -1")]
    [InlineData("--regularize l1 --group channel", "--group applies to --regularize group-lasso")]
    [InlineData("--regularize bn-scale", "--regularize: the model has no BatchNorm scale")]
    public void Bad_flags_give_one_line(string flags, string message)
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, 16), output = folder.File("x.onnx");
        var (code, _, error) = Invoke(Train(data, "lenet-5", output, flags.Split(' ')));
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(File.Exists(output));
    }
}
