using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

/// <summary>
/// Groups that a LayerNorm normalises over (a transformer's hidden size): found, marked not exact, left alone unless
/// asked, and then removed consistently (embedding columns, every projection, every LayerNorm's scale and shift).
/// </summary>
public class ApproximateGroupTests
{
    static GraphModule UntiedGpt() =>
        TinyGpt.Create(new TinyGptOptions(VocabularySize: 40, ContextLength: 12, Layers: 2, Heads: 2, Width: 16, TiedHead: false, Seed: 3));

    static Tensor Ids() => randint(0, 40, new long[] { 2, 9 }, generator: new Generator(5), dtype: int64);

    [Fact]
    public void The_hidden_size_is_one_group_that_is_not_exact_and_is_kept_unless_asked()
    {
        using var model = UntiedGpt();
        var graph = DependencyGraph.Build(model, new[] { Ids() });
        var hidden = Assert.Single(graph.Groups, g => g.Members.Any(m => m.Weight == "wte.weight"));
        Assert.Equal(16, hidden.Size);
        Assert.False(hidden.IsExact);
        Assert.Contains(hidden.Approximations, a => a.Contains("LayerNormalization"));
        // Every LayerNorm's scale and shift is sliced with it, and so is every projection that reads or writes the stream.
        foreach (string weight in new[] { "blocks.0.ln1.weight", "blocks.1.ln2.bias", "ln_f.weight", "blocks.0.attn.q.weight", "blocks.1.mlp.proj.weight", "head.weight" })
            Assert.Contains(hidden.Members, m => m.Weight == weight);
        Assert.All(graph.Groups.Where(g => g != hidden), g => Assert.True(g.IsExact, g.ToString()));

        var exactOnly = ChannelSelection.Select(graph, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 });
        Assert.False(exactOnly.ContainsKey(hidden.Id));
        var approximate = ChannelSelection.Select(graph, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5, Approximate = true });
        Assert.Equal(8, approximate[hidden.Id].Length);
    }

    [Fact]
    public void Pruning_the_hidden_size_keeps_the_model_consistent_and_onnx_runtime_agrees()
    {
        using var model = UntiedGpt();
        model.eval();
        var ids = Ids();
        var graph = DependencyGraph.Build(model, new[] { ids });
        var hidden = graph.Groups.Single(g => g.Members.Any(m => m.Weight == "wte.weight"));
        var removed = new Dictionary<int, int[]> { [hidden.Id] = new[] { 1, 4, 5, 11 } };
        using var pruned = Surgery.Apply(graph, removed);
        pruned.eval();

        var kept = tensor(Enumerable.Range(0, 16).Except(removed[hidden.Id]).Select(i => (long)i).ToArray());
        Assert.True(pruned.get_parameter("wte.weight")!.equal(model.get_parameter("wte.weight")!.index_select(1, kept)).all().item<bool>());
        Assert.True(pruned.get_parameter("ln_f.weight")!.equal(model.get_parameter("ln_f.weight")!.index_select(0, kept)).all().item<bool>());
        Assert.Equal(new long[] { 12, 16 }, pruned.get_parameter("blocks.0.attn.q.weight")!.shape); // heads keep their width

        using var folder = new TempFolder();
        string path = folder.File("pruned.onnx");
        OnnxFile.Save(pruned, path);
        using var runtime = new OnnxRuntimeRunner(path);
        using var _ = no_grad();
        var ours = pruned.call(ids);
        var reference = runtime.Run(new Dictionary<string, Tensor> { [pruned.InputNames[0]] = ids }).First().Value;
        Assert.Equal(new long[] { 2, 9, 40 }, ours.shape);
        Assert.True(reference.allclose(ours, 1e-4, 1e-5), $"ONNX Runtime and PruneSharp differ by {(reference - ours).abs().max().item<float>()}");
    }

    [Fact]
    public void A_tied_head_leaves_the_hidden_size_out_with_a_reason()
    {
        using var model = TinyGpt.Create(new TinyGptOptions(VocabularySize: 40, ContextLength: 12, Layers: 1, Heads: 2, Width: 16, TiedHead: true, Seed: 3));
        var graph = DependencyGraph.Build(model, new[] { Ids() });
        Assert.DoesNotContain(graph.Groups, g => g.Members.Any(m => m.Weight == "wte.weight"));
        Assert.Contains(graph.Blocked, b => b.Size == 16 && b.Reasons.Count > 0);
    }
}
