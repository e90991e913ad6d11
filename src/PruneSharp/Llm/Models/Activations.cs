using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>The MLP activations, by transformers' names (its <c>ACT2FN</c> table).</summary>
static class Activations
{
    static readonly Dictionary<string, Func<Tensor, Tensor>> ByName = new()
    {
        ["gelu"] = x => nn.functional.gelu(x),                 // exact: x·Φ(x)
        ["gelu_new"] = TanhGelu,                               // GPT-2's
        ["gelu_pytorch_tanh"] = TanhGelu,
        ["relu"] = x => nn.functional.relu(x),                 // OPT's
        ["silu"] = x => nn.functional.silu(x),                 // Llama's: x·σ(x)
        ["swish"] = x => nn.functional.silu(x),
    };

    public static IEnumerable<string> Names => ByName.Keys;

    public static bool IsKnown(string name) => ByName.ContainsKey(name);

    public static Func<Tensor, Tensor> Get(string name) => ByName[name];

    /// <summary>The tanh approximation of GELU (Hendrycks &amp; Gimpel): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    static Tensor TanhGelu(Tensor x)
    {
        using var scope = NewDisposeScope(); // its five [B, T, inner] intermediates go when it returns
        return x.mul(0.5).mul(x.pow(3).mul(0.044715).add(x).mul(Math.Sqrt(2 / Math.PI)).tanh().add(1)).MoveToOuterDisposeScope();
    }
}
