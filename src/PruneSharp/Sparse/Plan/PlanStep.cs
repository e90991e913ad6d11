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

/// <summary>How a <see cref="SparseModel"/> runs.</summary>
/// <param name="Compiled">True if its runs went through the <see cref="CompiledPlan"/> (every input shape so far).</param>
/// <param name="Refusal">Why the plan was not used (for the whole graph, or for an input shape), or null.</param>
/// <param name="Steps">The plan's steps for the last input shapes it ran.</param>
public sealed record PlanSummary(bool Compiled, string? Refusal, IReadOnlyList<PlanStepInfo> Steps);
