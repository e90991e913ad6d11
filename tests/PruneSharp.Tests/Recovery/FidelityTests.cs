using PruneSharp.Recovery;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Recovery;

public class FidelityTests
{
    [Fact]
    public void A_model_compared_with_itself_has_perfect_fidelity()
    {
        using var model = RecoveryModels.Cnn(seed: 0, outputs: ["logits", "embedding"]);
        using var copy = RecoveryModels.Cnn(seed: 0, outputs: ["logits", "embedding"]);
        var result = Fidelity.Measure(copy, model, new RecoveryModels.RandomImages(40, seed: 2), batchSize: 16);
        var logits = result.Single(r => r.Name == "logits");
        var embedding = result.Single(r => r.Name == "embedding");
        Assert.Equal(OutputKind.Logits, logits.Kind);
        Assert.Equal(OutputKind.Embedding, embedding.Kind);
        Assert.Equal(1, logits.MeanCosine, 6);
        Assert.Equal(0, logits.RelativeError, 6);
        Assert.Equal(1, logits.Top1Agreement);
        Assert.Null(logits.PairwiseSpearman);
        Assert.Equal(1, embedding.PairwiseSpearman!.Value, 9);
        Assert.Equal(40, embedding.Examples);
    }

    [Fact]
    public void A_known_perturbation_gives_the_metrics_of_a_naive_computation()
    {
        using var reference = RecoveryModels.Cnn(seed: 0, outputs: ["logits", "embedding"]);
        using var model = RecoveryModels.Cnn(seed: 0, outputs: ["logits", "embedding"]);
        using (no_grad())
            model.Weights()["fc.weight"].add_(randn(3, 6, generator: new Generator(9)) * 1.5);
        var data = new RecoveryModels.RandomImages(30, seed: 4);
        var result = Fidelity.Measure(model, reference, data, batchSize: 7).Single(r => r.Name == "logits");

        model.eval();
        reference.eval();
        var all = data.Inputs(Enumerable.Range(0, 30).ToArray());
        var a = model.Run(all)[0].to_type(ScalarType.Float64);
        var b = reference.Run(all)[0].to_type(ScalarType.Float64);
        double cosine = 0, error = 0, norm = 0;
        int agree = 0;
        for (int n = 0; n < 30; n++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int c = 0; c < 3; c++)
            {
                double x = a[n, c].item<double>(), y = b[n, c].item<double>();
                dot += x * y; na += x * x; nb += y * y;
                error += (x - y) * (x - y); norm += y * y;
            }
            cosine += dot / Math.Sqrt(na * nb);
            agree += a[n].argmax().item<long>() == b[n].argmax().item<long>() ? 1 : 0;
        }
        // Fidelity runs batches of 7, the naive computation one of 30: libtorch's float32 kernels may sum in another
        // order for another batch size (it does on some CPUs), so the outputs agree to float32 rounding, not exactly.
        Assert.Equal(cosine / 30, result.MeanCosine, 6);
        Assert.Equal(Math.Sqrt(error / norm), result.RelativeError, 6);
        Assert.Equal(agree / 30.0, result.Top1Agreement);
        Assert.True(result.MeanCosine < 0.99, $"the perturbation should show: cosine {result.MeanCosine}");
    }

    [Fact]
    public void Spearman_matches_hand_computed_values_with_ties()
    {
        Assert.Equal(1, Fidelity.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), 12);
        Assert.Equal(-1, Fidelity.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        // x ranks 1..5, y ranks [1.5, 1.5, 3, 4, 5]: Pearson of the ranks, by hand.
        double[] rx = [1, 2, 3, 4, 5], ry = [1.5, 1.5, 3, 4, 5];
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < 5; i++) { sxy += (rx[i] - 3) * (ry[i] - 3); sxx += (rx[i] - 3) * (rx[i] - 3); syy += (ry[i] - 3) * (ry[i] - 3); }
        Assert.Equal(sxy / Math.Sqrt(sxx * syy), Fidelity.Spearman([1, 2, 3, 4, 5], [7, 7, 8, 9, 10]), 12);
    }

    [Fact]
    public void Pairwise_cosines_list_every_pair_once()
    {
        var v = tensor(new double[] { 1, 0, 0, 1, 1, 1 }, 3, 2);
        var c = Fidelity.PairwiseCosines(v);
        Assert.Equal(new[] { 0, 1 / Math.Sqrt(2), 1 / Math.Sqrt(2) }, c.Select(x => Math.Round(x, 12)).ToArray(), new ToleranceComparer());
    }

    [Fact]
    public void Outputs_of_different_shapes_are_a_clear_error()
    {
        using var reference = RecoveryModels.Cnn(seed: 0, outputs: ["embedding"]);
        var b = new PruneSharp.Graph.GraphBuilder("other");
        var x = b.Input("image", null, 1, 8, 8);
        b.Output(b.Flatten(b.GlobalAvgPool(b.Conv2d(x, 5, 3, "conv"), "pool"), "flat"), "embedding");
        using var model = b.Build();
        var e = Assert.Throws<ArgumentException>(() => Fidelity.Measure(model, reference, new RecoveryModels.RandomImages(4, 0)));
        Assert.Contains("output 'embedding' is [4,5] in the model but [4,6] in the reference", e.Message);
    }

    sealed class ToleranceComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double obj) => 0;
    }
}
