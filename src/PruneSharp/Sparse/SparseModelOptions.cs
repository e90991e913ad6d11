namespace PruneSharp.Sparse;

/// <summary>How a <see cref="SparseLayer"/> picks its kernel.</summary>
public enum KernelSelection
{
    /// <summary>At each new input shape, time dense and sparse side by side on the actual input and keep the faster.</summary>
    Measure,
    /// <summary>Always the sparse kernel (where the layer's form allows it).</summary>
    Sparse,
}

/// <summary>Settings of a <see cref="SparseModel"/>.</summary>
public sealed record SparseModelOptions
{
    /// <summary>Threads of the sparse kernels (libtorch's own count is set with <c>torch.set_num_threads</c>).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Layers whose weight has fewer zeros than this stay dense without being measured.</summary>
    public double MinSparsity { get; init; } = 0.5;

    /// <summary>How each layer's kernel is chosen.</summary>
    public KernelSelection Selection { get; init; } = KernelSelection.Measure;

    /// <summary>Alternating rounds when a layer's kernels are measured.</summary>
    public int MeasureRounds { get; init; } = 7;

    /// <summary>Store weights that fit an N:M pattern (1:4, 2:8, 2:4, 4:8) compactly instead of as CSR.</summary>
    public bool UseNm { get; init; } = true;

    /// <summary>
    /// Run the whole graph as a <see cref="CompiledPlan"/> when every node it computes is of a supported op (false: always
    /// the executor with sparse layers, as before plans).
    /// </summary>
    public bool Compile { get; init; } = true;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Threads < 1) throw new ArgumentException($"threads must be at least 1, got {Threads}");
        if (MinSparsity is < 0 or > 1 || double.IsNaN(MinSparsity)) throw new ArgumentException($"the minimum sparsity must lie in [0, 1], got {MinSparsity}");
        if (MeasureRounds < 1) throw new ArgumentException($"measuring rounds must be at least 1, got {MeasureRounds}");
    }
}
