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
