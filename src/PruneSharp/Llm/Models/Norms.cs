using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>LayerNorm over the last axis (GPT-2, OPT); <paramref name="weight"/> and <paramref name="bias"/> are absent for a non-affine norm.</summary>
sealed class LayerNorm(Tensor? weight, Tensor? bias, double epsilon)
{
    public Tensor Apply(Tensor x) => nn.functional.layer_norm(x, [x.shape[^1]], weight, bias, epsilon);
}

/// <summary>
/// RMSNorm (Zhang &amp; Sennrich 2019) as Llama computes it: in float32, x / √(mean(x²) + ε), the weight applied after
/// the normalisation.
/// </summary>
sealed class RmsNorm(Tensor weight, double epsilon)
{
    public Tensor Apply(Tensor x)
    {
        using var scope = NewDisposeScope();
        var variance = x.pow(2).mean([-1], keepdim: true);
        return weight.mul(x.mul(variance.add(epsilon).rsqrt())).MoveToOuterDisposeScope();
    }
}
