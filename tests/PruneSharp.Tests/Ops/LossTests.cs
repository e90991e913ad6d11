using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class LossTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("sum")]
    [InlineData("mean")]
    public void NegativeLogLikelihoodLoss_matches_loops_with_weights_and_an_ignored_target(string reduction)
    {
        manual_seed(1);
        var input = randn(3, 4, 2).log_softmax(1);
        var target = tensor(new long[] { 0, 3, 2, -1, 1, 1 }).reshape(3, 2);
        var weight = rand(4) + 0.5;
        var y = Run("NegativeLogLikelihoodLoss", new[] { input, target, weight }, Attrs(("reduction", reduction), ("ignore_index", -1L)), opset: 13)[0];
        var losses = zeros(3, 2);
        double total = 0, weights = 0;
        for (int n = 0; n < 3; n++)
            for (int d = 0; d < 2; d++)
            {
                long t = target[n, d].item<long>();
                if (t == -1) continue;
                float w = weight[t].item<float>();
                losses[n, d] = -input[n, t, d] * w;
                total += losses[n, d].item<float>();
                weights += w;
            }
        var expected = reduction switch { "none" => losses, "sum" => tensor((float)total), _ => tensor((float)(total / weights)) };
        AssertClose(expected, y, 1e-5, 1e-6);
    }

    [Fact]
    public void SoftmaxCrossEntropyLoss_matches_torch_cross_entropy_and_returns_the_log_softmax()
    {
        manual_seed(2);
        var scores = randn(5, 3);
        var labels = tensor(new long[] { 0, 2, 1, 2, 0 });
        var weight = rand(3) + 0.5;
        var outputs = Run("SoftmaxCrossEntropyLoss", new[] { scores, labels, weight }, Attrs(("ignore_index", 1L)), opset: 13, outputs: 2);
        AssertClose(nn.functional.cross_entropy(scores, labels, weight, ignore_index: 1), outputs[0], 1e-5, 1e-6);
        AssertClose(scores.log_softmax(1), outputs[1]);
    }

    [Fact]
    public void Loss_rejects_an_unknown_reduction()
    {
        var e = Assert.ThrowsAny<PruneSharp.Graph.GraphException>(() =>
            Run("SoftmaxCrossEntropyLoss", new[] { randn(2, 3), tensor(new long[] { 0, 1 }) }, Attrs(("reduction", "max")), opset: 13));
        Assert.Contains("reduction 'max'", e.Message);
    }
}
