using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Pruning;

/// <summary>A random linear layer with inputs shaped like a language model's: correlated features, a non-zero mean and a few outlier features.</summary>
static class LayerFixture
{
    /// <summary>W [out, in] and X [tokens, in] in <paramref name="dtype"/>.</summary>
    public static (Tensor W, Tensor X) Make(long seed, long outputs, long inputs, long tokens, ScalarType dtype = ScalarType.Float32)
    {
        var generator = new Generator((ulong)seed);
        var mixing = randn(inputs, inputs, generator: generator, dtype: ScalarType.Float64).div_(Math.Sqrt(inputs)).add_(eye(inputs, dtype: ScalarType.Float64));
        var x = randn(tokens, inputs, generator: generator, dtype: ScalarType.Float64).matmul(mixing);
        x.add_(randn(inputs, generator: generator, dtype: ScalarType.Float64).mul_(0.5));
        // A few outlier features, as in LLM activations (Dettmers et al. 2022).
        x.narrow(1, 3, 1).mul_(20);
        x.narrow(1, inputs / 2, 1).mul_(12);
        var w = randn(outputs, inputs, generator: generator, dtype: ScalarType.Float64).div_(Math.Sqrt(inputs));
        return (w.to(dtype), x.to(dtype));
    }

    /// <summary>H = 2XᵀX/n computed at once.</summary>
    public static Tensor Hessian(Tensor x) => x.t().matmul(x).mul_(2.0 / x.shape[0]);

    /// <summary>‖WX − ŴX‖²_F / ‖WX‖²_F computed directly from the activations.</summary>
    public static double DirectError(Tensor w, Tensor pruned, Tensor x)
    {
        var dense = x.matmul(w.t());
        return dense.sub(x.matmul(pruned.t())).square().sum().to(ScalarType.Float64).item<double>() / dense.square().sum().to(ScalarType.Float64).item<double>();
    }
}
