using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// One pruneable linear layer of a decoder layer: y = x·Wᵀ + b with <see cref="Weight"/> in [out, in] orientation,
/// whatever the checkpoint stores. The layer reads <see cref="Weight"/> on every forward pass, so a pruner changes the
/// layer by writing into it in place (<c>site.Weight.copy_(pruned)</c>); <see cref="CheckpointTensor"/> gives the
/// current values back in the checkpoint's orientation for writing.
/// </summary>
public sealed class LinearSite
{
    internal LinearSite(int layer, string name, string tensorName, Tensor weight, Tensor? bias, bool storedTransposed)
    {
        Layer = layer;
        Name = name;
        TensorName = tensorName;
        Weight = weight;
        Bias = bias;
        StoredTransposed = storedTransposed;
    }

    /// <summary>Index of the decoder layer it belongs to.</summary>
    public int Layer { get; }

    /// <summary>Its name within the layer, as the checkpoint spells it (<c>self_attn.q_proj</c>, <c>mlp.down_proj</c>, <c>attn.c_attn</c>).</summary>
    public string Name { get; }

    /// <summary>The checkpoint's name of the weight (<c>model.layers.0.self_attn.q_proj.weight</c>).</summary>
    public string TensorName { get; }

    /// <summary>The weight, float32 [out, in], owned by the layer (valid until it is disposed).</summary>
    public Tensor Weight { get; }

    /// <summary>The bias [out], if the layer has one (read-only for pruning; owned by the layer).</summary>
    public Tensor? Bias { get; }

    /// <summary>
    /// True when the checkpoint stores the weight as [in, out] (GPT-2's Conv1D, y = x·W + b), so that
    /// <see cref="Weight"/> is its transpose.
    /// </summary>
    public bool StoredTransposed { get; }

    /// <summary>Input features (columns of <see cref="Weight"/>).</summary>
    public long InFeatures => Weight.shape[1];

    /// <summary>Output features (rows of <see cref="Weight"/>).</summary>
    public long OutFeatures => Weight.shape[0];

    /// <summary>A new float32 tensor with the current weight in the checkpoint's orientation; the caller owns it.</summary>
    public Tensor CheckpointTensor() => StoredTransposed ? Weight.t().contiguous() : Weight.clone();

    /// <summary>x [.., in] ↦ [.., out] with the current weight.</summary>
    internal Tensor Apply(Tensor x) => nn.functional.linear(x, Weight, Bias);

    /// <summary>The site's name and shape, for logs.</summary>
    public override string ToString() => $"{TensorName} [{OutFeatures}, {InFeatures}]";
}
