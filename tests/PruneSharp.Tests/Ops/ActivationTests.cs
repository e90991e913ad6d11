using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ActivationTests
{
    [Fact]
    public void Gelu_exact_and_tanh_follow_their_formulas()
    {
        var x = linspace(-5, 5, 41);
        var exact = 0.5 * x * (1 + (x / Math.Sqrt(2)).erf());
        AssertClose(exact, Run("Gelu", new[] { x }, opset: 20)[0]);
        var tanh = 0.5 * x * (1 + (Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh());
        AssertClose(tanh, Run("Gelu", new[] { x }, Attrs(("approximate", "tanh")), opset: 20)[0]);
    }

    [Fact]
    public void Gelu_is_not_accepted_before_opset_20()
    {
        Assert.Throws<PruneSharp.Graph.UnsupportedOpException>(() => Run("Gelu", new[] { randn(3) }, opset: 17));
    }
}

public class AttributeActivationTests
{
    static readonly Tensor X = linspace(-4, 4, 33);

    [Fact]
    public void LeakyRelu_HardSigmoid_Elu_Selu_Celu_ThresholdedRelu_and_Shrink_follow_their_formulas()
    {
        var x = X;
        AssertClose(where(x < 0, 0.3 * x, x), Run("LeakyRelu", new[] { x }, Attrs(("alpha", 0.3f)))[0]);
        AssertClose((0.25 * x + 0.4).clamp(0, 1), Run("HardSigmoid", new[] { x }, Attrs(("alpha", 0.25f), ("beta", 0.4f)))[0]);
        AssertClose(where(x < 0, 2 * (x.exp() - 1), x), Run("Elu", new[] { x }, Attrs(("alpha", 2f)))[0]);
        AssertClose(1.5 * where(x <= 0, 1.2 * (x.exp() - 1), x), Run("Selu", new[] { x }, Attrs(("alpha", 1.2f), ("gamma", 1.5f)))[0]);
        AssertClose(x.clamp_min(0) + (((x / 0.5).exp() - 1) * 0.5).clamp_max(0), Run("Celu", new[] { x }, Attrs(("alpha", 0.5f)))[0]);
        AssertClose(where(x > 1.5, x, zeros_like(x)), Run("ThresholdedRelu", new[] { x }, Attrs(("alpha", 1.5f)))[0]);
        AssertClose(where(x < -1, x + 0.5, where(x > 1, x - 0.5, zeros_like(x))), Run("Shrink", new[] { x }, Attrs(("lambd", 1f), ("bias", 0.5f)))[0]);
    }

    [Fact]
    public void PRelu_broadcasts_a_per_channel_slope()
    {
        manual_seed(1);
        var x = randn(2, 3, 4, 4);
        var slope = tensor(new float[] { 0.1f, 0.5f, -2f }).reshape(3, 1, 1);
        var y = Run("PRelu", new[] { x, slope }, constants: new[] { 1 })[0];
        var expected = x.clone();
        for (int c = 0; c < 3; c++)
        {
            var plane = x.select(1, c);
            expected.select(1, c).copy_(where(plane < 0, plane * slope[c].item<float>(), plane));
        }
        AssertClose(expected, y);
    }

    [Fact]
    public void New_unary_ops_follow_their_formulas()
    {
        var x = X;
        AssertClose((1 + x.exp()).log(), Run("Softplus", new[] { x })[0]);
        AssertClose(x / (1 + x.abs()), Run("Softsign", new[] { x })[0]);
        AssertClose(x * (x / 6 + 0.5).clamp(0, 1), Run("HardSwish", new[] { x })[0]);
        AssertClose(x * (1 + x.exp()).log().tanh(), Run("Mish", new[] { x }, opset: 18)[0]);
        AssertClose(tensor(new float[] { 0, 2, 2, -0f, -2, 1 }), Run("Round", new[] { tensor(new float[] { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 0.6f }) })[0], 0, 0);
        AssertClose(1 / x, Run("Reciprocal", new[] { x })[0]);
        AssertClose(x.sign(), Run("Sign", new[] { x })[0]);
    }

    [Fact]
    public void Ops_newer_than_the_graph_opset_are_rejected()
    {
        Assert.Throws<PruneSharp.Graph.UnsupportedOpException>(() => Run("HardSwish", new[] { X }, opset: 13));
        Assert.Throws<PruneSharp.Graph.UnsupportedOpException>(() => Run("Celu", new[] { X }, opset: 11));
    }
}
