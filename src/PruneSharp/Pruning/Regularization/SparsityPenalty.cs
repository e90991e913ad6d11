using PruneSharp.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Regularization;

/// <summary>Which sparsity-inducing penalty is added to the training loss.</summary>
public enum PenaltyKind
{
    /// <summary>L1 on the weights of the layers: R = Σ |w|.</summary>
    L1,

    /// <summary>Group lasso (structured sparsity learning, Wen et al. 2016): R = Σ_g ‖w_g‖₂ over filters or channels.</summary>
    GroupLasso,

    /// <summary>Network slimming (Liu et al. 2017): L1 on the scales γ of the BatchNorms, R = Σ |γ|.</summary>
    BatchNormScale,
}

/// <summary>Which slices of a layer's weight form one group of the group lasso.</summary>
public enum LassoGroup
{
    /// <summary>One group per output channel: a convolution's filter, a linear layer's output neuron (its incoming weights).</summary>
    Filter,

    /// <summary>One group per input channel: the slice of every filter that reads that channel (a linear layer's input feature).</summary>
    Channel,
}

/// <summary>
/// A sparsity-inducing penalty R over some parameters of a module: its value (differentiable, for reports and for
/// checking) and λ·∂R/∂w added straight into the parameters' gradients, with the subgradient 0 where R is not
/// differentiable (a weight or a whole group at zero).
/// </summary>
public abstract class SparsityPenalty
{
    /// <summary>A penalty over <paramref name="targets"/> (name, parameter).</summary>
    /// <exception cref="PruningException">There is nothing to penalise.</exception>
    protected SparsityPenalty(IReadOnlyList<(string Name, Parameter Parameter)> targets, string what)
    {
        if (targets.Count == 0) throw new PruningException($"the model has no {what} to regularise");
        Targets = targets;
    }

    /// <summary>The penalised parameters, in the module's order.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Targets { get; }

    /// <summary>R at the current weights, as a scalar tensor that autograd can differentiate.</summary>
    public abstract Tensor Value();

    /// <summary>Adds λ·∂R/∂w to every target's gradient (creating a gradient where backward left none).</summary>
    public void AddGradient(double lambda)
    {
        if (lambda == 0) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, parameter) in Targets)
        {
            var step = Gradient(name, parameter.detach()).mul_(lambda);
            if (parameter.grad is { } grad) grad.add_(step);
            else parameter.grad = step.DetachFromDisposeScope();
        }
    }

    /// <summary>∂R/∂w of the target <paramref name="name"/> at <paramref name="weight"/> (a subgradient where R has a kink).</summary>
    protected abstract Tensor Gradient(string name, Tensor weight);

    /// <summary>
    /// The penalty <paramref name="kind"/> over the fitting parameters of <paramref name="module"/>: the layers'
    /// weights (Conv, Linear/Gemm/MatMul) for L1 and the group lasso, the BatchNorm scales for network slimming.
    /// </summary>
    /// <exception cref="PruningException">The module has no such parameter (e.g. no BatchNorm for network slimming).</exception>
    public static SparsityPenalty For(nn.Module module, PenaltyKind kind, LassoGroup group = LassoGroup.Filter)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        if (kind == PenaltyKind.BatchNormScale)
            return new L1Penalty(BatchNormScales(module).Select(n => (n, parameters[n])).ToList(), "BatchNorm scale (network slimming needs BatchNorm layers)");
        var layers = LayerWeights.Of(module);
        var weights = module.named_parameters()
            .Where(p => p.parameter.dim() >= 2 && layers.Of(p.name).Kind == WeightKind.Layer)
            .Select(p => (p.name, p.parameter)).ToList();
        return kind switch
        {
            PenaltyKind.L1 => new L1Penalty(weights, "layer weight"),
            PenaltyKind.GroupLasso => new GroupLassoPenalty(weights.Select(w =>
            {
                var layout = layers.Of(w.name);
                return (w.name, w.parameter, group == LassoGroup.Filter ? layout.OutputAxis : layout.ReductionAxis);
            }).ToList()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown penalty"),
        };
    }

    /// <summary>
    /// The names of the BatchNorm scales γ of <paramref name="module"/>: the scale input of every BatchNormalization
    /// node of a <see cref="GraphModule"/> that is a parameter, or the weight of every BatchNorm1d/2d/3d submodule.
    /// </summary>
    public static IReadOnlyList<string> BatchNormScales(nn.Module module)
    {
        if (module is GraphModule graph)
            return graph.Graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.InputOrNull(1) is { } s && graph.IsParameter(s))
                .Select(n => n.Inputs[1]).Distinct().ToList();
        return module.named_modules()
            .Where(m => m.module is BatchNorm1d or BatchNorm2d or BatchNorm3d)
            .Select(m => m.name.Length == 0 ? "weight" : m.name + ".weight")
            .Where(n => module.named_parameters().Any(p => p.name == n)).ToList();
    }
}

/// <summary>L1 penalty R = Σ |w| over the targets; ∂R/∂w = sign(w) (0 at 0).</summary>
public sealed class L1Penalty : SparsityPenalty
{
    /// <summary>L1 over <paramref name="targets"/>; <paramref name="what"/> names them in the error when there are none.</summary>
    public L1Penalty(IReadOnlyList<(string Name, Parameter Parameter)> targets, string what = "parameter") : base(targets, what) { }

    /// <inheritdoc/>
    public override Tensor Value() => stack(Targets.Select(t => t.Parameter.abs().sum())).sum();

    /// <inheritdoc/>
    protected override Tensor Gradient(string name, Tensor weight) => weight.sign();
}

/// <summary>
/// Group lasso R = Σ_g ‖w_g‖₂ (Yuan &amp; Lin 2006; structured sparsity learning, Wen et al. 2016): a group is the
/// slice of a weight at one index of its group axis (the output axis: a filter or neuron; the reduction axis: an input
/// channel). ∂R/∂w_g = w_g / ‖w_g‖₂ (0 for a group that is all zero). It drives whole groups to zero together.
/// </summary>
public sealed class GroupLassoPenalty : SparsityPenalty
{
    readonly Dictionary<string, int> _axes;

    /// <summary>Group lasso over <paramref name="targets"/>, each grouped along its own axis.</summary>
    public GroupLassoPenalty(IReadOnlyList<(string Name, Parameter Parameter, int Axis)> targets)
        : base(targets.Select(t => (t.Name, t.Parameter)).ToList(), "layer weight")
    {
        _axes = targets.ToDictionary(t => t.Name, t => t.Axis, StringComparer.Ordinal);
        foreach (var (name, parameter, axis) in targets)
            if (axis < 0 || axis >= parameter.dim())
                throw new PruningException($"group axis {axis} of '{name}' is outside its {parameter.dim()} dimensions");
    }

    /// <summary>The group axis of each target.</summary>
    public IReadOnlyDictionary<string, int> Axes => _axes;

    /// <inheritdoc/>
    public override Tensor Value() =>
        stack(Targets.Select(t => GroupNorms(t.Parameter, _axes[t.Name]).sum())).sum();

    /// <inheritdoc/>
    protected override Tensor Gradient(string name, Tensor weight)
    {
        int axis = _axes[name];
        var norms = GroupNorms(weight, axis);
        var shape = Enumerable.Repeat(1L, (int)weight.dim()).ToArray();
        shape[axis] = weight.shape[axis];
        var inverse = where(norms > 0, norms.reciprocal(), zeros_like(norms)).reshape(shape);
        return weight * inverse;
    }

    /// <summary>‖w_g‖₂ for every index g of <paramref name="axis"/>.</summary>
    public static Tensor GroupNorms(Tensor weight, int axis)
    {
        var others = Enumerable.Range(0, (int)weight.dim()).Where(d => d != axis).Select(d => (long)d).ToArray();
        return others.Length == 0 ? weight.abs() : linalg.vector_norm(weight, 2, others);
    }
}
