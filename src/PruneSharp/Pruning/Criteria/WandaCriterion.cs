using PruneSharp.Data;
using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// Wanda (Sun, Liu, Bair and Kolter, 2023, "A Simple and Effective Pruning Approach for Large Language Models") for
/// any graph: the score of weight w_ij is |w_ij| · ‖X_j‖₂, the magnitude times the L2 norm of the input feature it
/// multiplies, taken over every example and position of the observed batches. The feature is the layer's reduction
/// index: a MatMul's input row (weight [in, out]), a Gemm's input column, a Conv's input channel (its norm over the
/// batch and every spatial position, which stands for the unfolded patches' norm away from the padding). Only the
/// inputs are observed, never a label, so it scores on unlabeled data. The paper compares weights within each output
/// row; here the scope's allocation thresholds them (per layer with the local scope).
/// </summary>
public sealed class WandaCriterion : Criterion, IObservingCriterion, IInputObservingCriterion
{
    const string Statistic = "wanda";

    /// <inheritdoc />
    public override string Name => "wanda";

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context)
    {
        Tensor norms;
        try
        {
            norms = context.Statistic(Statistic, name);
        }
        catch (PruningException)
        {
            throw new PruningException($"wanda weighs each weight by the norm of the input feature it multiplies, and '{name}' is not the weight of a Conv, Gemm or MatMul " +
                $"whose input was observed: leave it out (--exclude {name})");
        }
        return (weight.detach().abs().to(ScalarType.Float32) * norms).contiguous();
    }

    /// <inheritdoc />
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters)
    {
        if (model is not GraphModule module)
            throw new PruningException($"wanda reads each layer's input from the model's graph; it needs an ONNX or zoo model, not a {model.GetType().Name}");
        return ObserveInputs(module, batches.Select(b => (IReadOnlyList<Tensor>)new[] { b.Inputs }).ToList(), parameters);
    }

    /// <inheritdoc />
    public ScoringContext ObserveInputs(GraphModule model, IReadOnlyList<IReadOnlyList<Tensor>> batches, IReadOnlyCollection<string> parameters)
    {
        if (batches.Count == 0) throw new PruningException("wanda needs at least one batch of inputs");
        var graph = model.Graph;
        var roles = ParameterRoles.Of(graph);
        var nodes = graph.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        // Each observed layer: the value it reads, the axis of that value's features, and the weight it scores.
        var layers = new List<Layer>();
        foreach (string name in parameters)
            if (roles.ByName.TryGetValue(name, out var role) && role is { Kind: ParameterKind.Weight, ReductionAxis: { } axis } && nodes.TryGetValue(role.Node, out var node)
                && Reads(node, name) is { } read)
                layers.Add(new Layer(name, node, read.Value, read.FeatureAxis, axis));
        var byValue = layers.GroupBy(l => l.Value).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var sums = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in batches)
                model.Run(batch, (value, tensor) =>
                {
                    if (!byValue.TryGetValue(value, out var readers)) return;
                    foreach (int featureAxis in readers.Select(r => r.FeatureAxis).Distinct())
                    {
                        string key = $"{value}#{featureAxis}";
                        int rank = (int)tensor.dim();
                        int at = featureAxis < 0 ? rank + featureAxis : featureAxis;
                        var others = Enumerable.Range(0, rank).Where(d => d != at).Select(d => (long)d).ToArray();
                        var squares = tensor.detach().to(ScalarType.Float64).square();
                        var sum = others.Length == 0 ? squares : squares.sum(others);
                        sums[key] = sums.TryGetValue(key, out var so_far) ? so_far.add_(sum) : sum;
                    }
                });
        }
        finally
        {
            model.train(training);
        }
        var weights = model.Weights();
        var scores = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var layer in layers)
            if (sums.TryGetValue($"{layer.Value}#{layer.FeatureAxis}", out var sum))
                scores[layer.Weight] = Broadcast(layer, sum.sqrt().to(ScalarType.Float32), weights[layer.Weight].shape);
        return ScoringContext.OfStatistic(Statistic, scores);
    }

    /// <summary>One weight scored: the value its node reads and the axes of the features in it and in the weight.</summary>
    sealed record Layer(string Weight, Node Node, string Value, int FeatureAxis, int ReductionAxis);

    /// <summary>The activation <paramref name="node"/> multiplies by <paramref name="weight"/>, and the axis of its features; null for other ops.</summary>
    static (string Value, int FeatureAxis)? Reads(Node node, string weight) => node.OpType switch
    {
        "Conv" or "ConvTranspose" when node.Inputs[0] != weight => (node.Inputs[0], 1),
        "Gemm" when node.Inputs[0] != weight && node.GetInt("transA", 0) == 0 => (node.Inputs[0], 1),
        "MatMul" when node.Inputs[0] != weight => (node.Inputs[0], -1),
        _ => null,
    };

    /// <summary>
    /// The input norms <paramref name="norms"/> [features] laid along the weight's reduction axis, broadcastable to
    /// <paramref name="shape"/>; a grouped Conv's weight [out, in/groups, ...] reads, in output group g, input channels g·in/groups onwards.
    /// </summary>
    static Tensor Broadcast(Layer layer, Tensor norms, long[] shape)
    {
        long features = norms.shape[0];
        var view = Enumerable.Repeat(1L, shape.Length).ToArray();
        long groups = layer.Node.OpType == "Conv" ? layer.Node.GetInt("group", 1) : 1;
        if (groups > 1)
        {
            long perGroup = features / groups;
            if (perGroup != shape[1] || shape[0] % groups != 0)
                throw new PruningException($"wanda: '{layer.Weight}' of shape [{string.Join(",", shape)}] does not fit its {groups}-group Conv's {features} input channels");
            view[0] = shape[0];
            view[1] = perGroup;
            return norms.reshape(groups, perGroup).repeat_interleave(shape[0] / groups, dim: 0).reshape(view).contiguous();
        }
        if (shape[layer.ReductionAxis] != features)
            throw new PruningException($"wanda: '{layer.Weight}' has {shape[layer.ReductionAxis]} inputs along axis {layer.ReductionAxis}, but its layer's input has {features} features");
        view[layer.ReductionAxis] = features;
        return norms.reshape(view);
    }
}
