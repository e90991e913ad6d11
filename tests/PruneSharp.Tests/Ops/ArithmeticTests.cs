using PruneSharp.Graph;
using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ArithmeticTests
{
    [Fact]
    public void Sum_and_Mean_broadcast_any_number_of_inputs()
    {
        manual_seed(1);
        var a = randn(2, 3);
        var b = randn(3);
        var c = randn(2, 1);
        AssertClose(a + b + c, Run("Sum", new[] { a, b, c })[0]);
        AssertClose((a + b + c) / 3, Run("Mean", new[] { a, b, c })[0]);
        AssertClose(a, Run("Sum", new[] { a })[0], 0, 0);
    }

    [Fact]
    public void Mod_takes_the_divisor_sign_and_fmod_the_dividend_sign()
    {
        var a = tensor(new long[] { -7, 7, -7, 7 });
        var b = tensor(new long[] { 3, 3, -3, -3 });
        Assert.Equal(new long[] { 2, 1, -1, -2 }, Run("Mod", new[] { a, b })[0].data<long>().ToArray());
        Assert.Equal(new long[] { -1, 1, -1, 1 }, Run("Mod", new[] { a, b }, Attrs(("fmod", 1L)))[0].data<long>().ToArray());
        var e = Assert.ThrowsAny<GraphException>(() => Run("Mod", new[] { randn(3), randn(3) }));
        Assert.Contains("fmod", e.Message);
    }

    [Fact]
    public void Det_of_a_batch_of_2x2_matrices_is_ad_minus_bc()
    {
        manual_seed(3);
        var m = randn(3, 2, 2);
        var expected = m[.., 0, 0] * m[.., 1, 1] - m[.., 0, 1] * m[.., 1, 0];
        AssertClose(expected, Run("Det", new[] { m })[0], 1e-5, 1e-6);
        Assert.ThrowsAny<GraphException>(() => Run("Det", new[] { randn(2, 3) }));
    }

    [Fact]
    public void BatchNormalization_training_mode_returns_updated_running_statistics()
    {
        manual_seed(2);
        var x = randn(4, 3, 2, 2);
        Tensor scale = rand(3) + 0.5, bias = randn(3), mean = randn(3), variance = rand(3) + 0.5;
        var outputs = Run("BatchNormalization", new[] { x, scale, bias, mean, variance },
            Attrs(("training_mode", 1L), ("momentum", 0.8f), ("epsilon", 1e-3f)), opset: 15, outputs: 3, constants: new[] { 1, 2, 3, 4 });
        var batchMean = x.mean(new long[] { 0, 2, 3 });
        var batchVariance = (x - batchMean.reshape(1, -1, 1, 1)).square().mean(new long[] { 0, 2, 3 });
        var expected = (x - batchMean.reshape(1, -1, 1, 1)) / (batchVariance.reshape(1, -1, 1, 1) + 1e-3).sqrt() * scale.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1);
        AssertClose(expected, outputs[0], 1e-4, 1e-5);
        AssertClose(mean * 0.8 + batchMean * 0.2, outputs[1], 1e-5, 1e-6);
        AssertClose(variance * 0.8 + batchVariance * 0.2, outputs[2], 1e-5, 1e-6);
    }
}
