using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// Frees a forward pass's large intermediates as soon as the next one exists. A dispose scope around a decoder layer
/// would keep every intermediate alive until the layer ends; for the [B, H, T, T] attention scores and the MLP's
/// [B, T, inner] activations that is most of a layer-by-layer pruning run's peak memory. Autograd keeps what it needs
/// by its own references, so freeing the handle is safe with gradients too.
/// </summary>
static class Intermediates
{
    /// <summary>Frees <paramref name="input"/> and returns <paramref name="result"/>, which was computed from it.</summary>
    public static Tensor Consume(Tensor input, Tensor result)
    {
        input.Dispose();
        return result;
    }
}
