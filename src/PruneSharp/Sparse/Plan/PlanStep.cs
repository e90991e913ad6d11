namespace PruneSharp.Sparse;

/// <summary>One way to run a plan step.</summary>
internal sealed record PlanCandidate(KernelKind Kind, Action Run);

/// <summary>
/// One step of a compiled plan: the graph nodes it runs (a weight node with the bias, BatchNormalization and
/// activation fused into it, or one other node) and its candidate kernels, of which <see cref="Chosen"/> runs.
/// </summary>
internal sealed class PlanStep(IReadOnlyList<string> nodes, string op, IReadOnlyList<PlanCandidate> candidates, SparseLayer? layer = null, long[]? inputShape = null)
{
    public IReadOnlyList<string> Nodes { get; } = nodes;
    public string Op { get; } = op;
    public IReadOnlyList<PlanCandidate> Candidates { get; } = candidates;
    public SparseLayer? Layer { get; } = layer;
    public long[]? InputShape { get; } = inputShape;
    public int Chosen { get; set; }
    public Action Run => Candidates[Chosen].Run;
}

/// <summary>What one step of a <see cref="CompiledPlan"/> runs.</summary>
/// <param name="Nodes">The graph nodes the step covers, the weight node first (bias, BatchNormalization and activation fused into it).</param>
/// <param name="Op">The first node's op type.</param>
/// <param name="Kernel">For Gemm, MatMul and Conv steps, the kernel chosen; null for other ops.</param>
public sealed record PlanStepInfo(IReadOnlyList<string> Nodes, string Op, KernelKind? Kernel)
{
    /// <inheritdoc />
    public override string ToString() => string.Join("+", Nodes) + (Kernel is { } k ? $" [{KernelNames.Of(k)}]" : "");
}
