using TorchSharp;

namespace PruneSharp.Llm;

/// <summary>
/// The named tensors of a checkpoint, read one at a time on demand (a memory-mapped safetensors checkpoint, or tensors
/// held in memory by a test). Names are the checkpoint's own (<c>model.layers.0.self_attn.q_proj.weight</c>).
/// </summary>
public interface ITensorSource
{
    /// <summary>Every tensor name, in the checkpoint's order.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Whether a tensor of that name exists.</summary>
    bool Contains(string name);

    /// <summary>The shape of a tensor, without reading its data.</summary>
    long[] Shape(string name);

    /// <summary>A new float32 CPU tensor with the values of <paramref name="name"/> (F16/BF16 are widened); the caller owns it.</summary>
    torch.Tensor Read(string name);
}
