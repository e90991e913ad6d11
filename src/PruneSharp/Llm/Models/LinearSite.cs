using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Models;

/// <summary>
/// One pruneable linear layer of a decoder layer: y = x·Wᵀ + b with <see cref="Weight"/> in [out, in] orientation,
/// whatever the checkpoint stores. The layer reads <see cref="Weight"/> on every forward pass, so a pruner changes the
/// layer by writing into it in place (<c>site.Weight.copy_(pruned)</c>); <see cref="CheckpointTensor"/> gives the
/// current values back in the checkpoint's orientation for writing. A decoder may instead run the layer from a compact
/// <see cref="SparseMatrix"/> (<see cref="Compact"/>), after which the dense weight is gone.
/// </summary>
public sealed class LinearSite
{
    Tensor? _weight;
    SparseMatrix? _matrix;
    int _threads = 1;

    internal LinearSite(int layer, string name, string tensorName, Tensor weight, Tensor? bias, bool storedTransposed)
    {
        Layer = layer;
        Name = name;
        TensorName = tensorName;
        _weight = weight;
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
    /// <exception cref="InvalidOperationException">The site was compacted: only <see cref="Matrix"/> is left.</exception>
    public Tensor Weight => _weight ?? throw new InvalidOperationException($"{TensorName} runs from a {_matrix!.Format} matrix; its dense weight was freed");

    /// <summary>The compact weight the layer runs from, once <see cref="Compact"/> was called (null while dense).</summary>
    public SparseMatrix? Matrix => _matrix;

    /// <summary>The bias [out], if the layer has one (read-only for pruning; owned by the layer).</summary>
    public Tensor? Bias { get; }

    /// <summary>
    /// True when the checkpoint stores the weight as [in, out] (GPT-2's Conv1D, y = x·W + b), so that
    /// <see cref="Weight"/> is its transpose.
    /// </summary>
    public bool StoredTransposed { get; }

    /// <summary>Input features (columns of <see cref="Weight"/>).</summary>
    public long InFeatures => _matrix?.Columns ?? Weight.shape[1];

    /// <summary>Output features (rows of <see cref="Weight"/>).</summary>
    public long OutFeatures => _matrix?.Rows ?? Weight.shape[0];

    /// <summary>A new float32 tensor with the current weight in the checkpoint's orientation; the caller owns it.</summary>
    public Tensor CheckpointTensor() => StoredTransposed ? Weight.t().contiguous() : Weight.clone();

    /// <summary>Bytes of weight and bias one application reads: the compact matrix's storage, or the dense float32 weight.</summary>
    public long WeightBytes => (_matrix?.StorageBytes ?? Weight.numel() * sizeof(float)) + (Bias?.numel() ?? 0) * sizeof(float);

    /// <summary>
    /// From now on runs the layer from <paramref name="matrix"/> (the same weight, [out, in], zeros left out) with
    /// <paramref name="threads"/> threads, and frees the dense weight, so that only the compact copy stays in memory.
    /// </summary>
    /// <exception cref="ArgumentException">The matrix has another shape than the weight.</exception>
    internal void Compact(SparseMatrix matrix, int threads)
    {
        if (matrix.Rows != OutFeatures || matrix.Columns != InFeatures)
            throw new ArgumentException($"{TensorName} is [{OutFeatures}, {InFeatures}] but the compact matrix is {matrix.Rows}x{matrix.Columns}");
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var dense = Weight;
        (_matrix, _threads, _weight) = (matrix, threads, null);
        dense.Dispose();
    }

    /// <summary>x [.., in] ↦ [.., out] with the current weight (the compact one once there is one).</summary>
    internal Tensor Apply(Tensor x)
    {
        if (_matrix is null) return nn.functional.linear(x, Weight, Bias);
        using var rows = x.reshape(-1, _matrix.Columns);
        var y = SparseKernels.Linear(_matrix, rows, _threads);
        if (Bias is not null) y.add_(Bias);
        long[] shape = [.. x.shape[..^1], _matrix.Rows];
        using (y) return y.view(shape);
    }

    /// <summary>The site's name and shape, for logs.</summary>
    public override string ToString() => $"{TensorName} [{OutFeatures}, {InFeatures}]";
}
