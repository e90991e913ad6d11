using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Recovery;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pipelines;

/// <summary>Unstructured and N:M pruning of the three-input encoder fixture on unlabeled sentences, recovered by distillation.</summary>
public class UnlabeledPruningTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures");
    static readonly string Fixture = Path.Combine(Fixtures, "bert_tiny_opset14.onnx");

    static GraphFeed Sentences(GraphModule model, TempFolder folder, int count)
    {
        File.WriteAllLines(folder.File("sentences.txt"), File.ReadLines(Path.Combine(Fixtures, "bert_encoder_sentences.txt")).Take(count));
        var text = TokenizedText.Load(folder.File("sentences.txt"), WordPieceTokenizer.FromVocabulary(Path.Combine(Fixtures, "vocab.txt")), 24);
        return new GraphFeed(model.Graph, text);
    }

    static PruneSharp.Training.TrainerOptions Distill(int examples) => Pipeline.FineTune(new RecoveryDescription("distill", 3, 16, "adamw", 0.003), 1, examples);

    [Fact]
    public void Half_of_every_weight_pruned_by_magnitude_stays_zero_through_distillation_and_fidelity_rises()
    {
        using var folder = new TempFolder();
        using var model = OnnxFile.Load(Fixture);
        using var teacher = OnnxFile.Load(Fixture);
        var dense = teacher.Weights().ToDictionary(w => w.Key, w => w.Value.detach().clone());
        var feed = Sentences(model, folder, 64);
        var (stage, _) = UnstructuredPruning.Stage(new StageDescription("magnitude", 0.5, FirstLast: "prune"), "stages[0]", model, 0);

        var result = UnlabeledPruning.Run(model, teacher, stage, feed, Distill(feed.Count), new DistillationOptions());

        Assert.NotEmpty(result.Pruning.Prunable);
        var weights = model.Weights();
        foreach (string name in result.Pruning.Prunable)
        {
            // The zeros are exactly those the magnitude ranking of the dense weight chose: distillation revived none and moved none.
            var before = dense[name].abs().flatten();
            var order = before.argsort();
            var expectedZeros = zeros(before.shape[0], dtype: ScalarType.Bool).index_fill_(0, order[..(int)(before.shape[0] / 2)], true);
            var zerosNow = weights[name].flatten().eq(0);
            Assert.True(zerosNow.eq(expectedZeros).all().item<bool>(), $"{name}: the zeros after distillation are not those pruned");
            Assert.False(weights[name].flatten().index(order[(int)(before.shape[0] / 2)..]).eq(0).any().item<bool>());
        }
        // Distillation trained the kept weights (they left their dense values), and the fidelity after it is the masked model's.
        Assert.Contains(result.Pruning.Prunable, n => !weights[n].eq(dense[n] * weights[n].ne(0)).all().item<bool>());
        Assert.NotNull(result.Distillation);
        Assert.True(result.Distillation!.LossAfter < result.Distillation.LossBefore);
        var again = Fidelity.Measure(model, teacher, feed);
        for (int k = 0; k < result.FidelityBefore.Count; k++)
        {
            double before = result.FidelityBefore[k].MeanCosine, after = result.FidelityAfter![k].MeanCosine;
            Assert.True(after >= before, $"{result.FidelityBefore[k].Name}: cosine {before} -> {after}");
            Assert.True(before < 1 - 1e-4, $"pruning half of the weights left {result.FidelityBefore[k].Name} at cosine {before}");
            Assert.Equal(after, again[k].MeanCosine, 6);
        }
    }

    [Fact]
    public void Two_of_four_by_wanda_keeps_the_pattern_along_each_matmul_reduction_axis_through_distillation()
    {
        using var folder = new TempFolder();
        using var model = OnnxFile.Load(Fixture);
        using var teacher = OnnxFile.Load(Fixture);
        var feed = Sentences(model, folder, 48);
        var (stage, _) = UnstructuredPruning.Stage(new StageDescription("wanda", null, "2:4", FirstLast: "prune"), "stages[0]", model, 0);
        Assert.Equal(0.5, stage.Sparsity);

        var result = UnlabeledPruning.Run(model, teacher, stage, feed, Distill(feed.Count), new DistillationOptions());

        var roles = ParameterRoles.Of(model.Graph);
        var weights = model.Weights();
        Assert.NotEmpty(result.Pruning.Prunable);
        foreach (string name in result.Pruning.Prunable)
        {
            int axis = roles.ByName[name].ReductionAxis!.Value;
            Assert.Equal(0, axis); // MatMul weights [in, out]
            var w = weights[name].movedim(new long[] { axis }, new long[] { -1 });
            var groups = w.reshape(-1, 4).ne(0).sum(dim: 1);
            Assert.True(groups.le(2).all().item<bool>(), $"{name}: a group of 4 along the reduction axis keeps more than 2");
            Assert.Equal(w.numel() / 2, w.ne(0).sum().item<long>());
        }
        for (int k = 0; k < result.FidelityBefore.Count; k++)
            Assert.True(result.FidelityAfter![k].MeanCosine >= result.FidelityBefore[k].MeanCosine);
    }

    [Theory]
    [InlineData("snip", "gradients")]
    [InlineData("taylor", "gradients")]
    [InlineData("obd", "gradients")]
    [InlineData("movement", "gradients")]
    [InlineData("loss-change", "labels")]
    public void Criteria_that_need_a_loss_are_refused_on_unlabeled_data_with_the_reason(string method, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => UnlabeledPruning.Check(PruningParts.Criterion(method, 0), "sentences.txt"));
        Assert.Contains($"--method {method}", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.Contains("'sentences.txt' holds unlabeled inputs", error.Message);
        foreach (string works in new[] { "magnitude", "random", "wanda", "apoz", "entropy" })
            UnlabeledPruning.Check(PruningParts.Criterion(works, 0), "sentences.txt");
    }
}
