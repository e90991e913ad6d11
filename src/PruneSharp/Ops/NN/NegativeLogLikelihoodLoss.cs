using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>NegativeLogLikelihoodLoss</c> (opset 12): loss[n, d…] = −input[n, target[n, d…], d…] · weight[target], zero
/// where target equals <c>ignore_index</c>; <c>reduction</c> none, sum, or mean (the sum divided by the summed
/// weights of the targets that count).
/// </summary>
public sealed class NegativeLogLikelihoodLoss : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "NegativeLogLikelihoodLoss" };

    /// <inheritdoc />
    public override int MinOpset => 12;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) != null) flow.Block($"{flow.Node.OpType} picks one class per sample");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        var loss = Loss.Read(node);
        return Single(inputs => loss.Compute(inputs[0]!, inputs[1]!, inputs.Length > 2 ? inputs[2] : null));
    }
}

/// <summary>The attributes and arithmetic shared by ONNX's classification losses.</summary>
sealed class Loss
{
    public required Node Node { get; init; }
    public required string Reduction { get; init; }
    public required long? IgnoreIndex { get; init; }

    public static Loss Read(Node node)
    {
        string reduction = node.GetString("reduction", "mean");
        if (reduction is not ("none" or "sum" or "mean"))
            throw new GraphException($"node '{node.Name}' ({node.OpType}): reduction '{reduction}' is not one of none, sum, mean");
        return new Loss { Node = node, Reduction = reduction, IgnoreIndex = node.Attributes.ContainsKey("ignore_index") ? node.GetInt("ignore_index", 0) : null };
    }

    /// <summary>The negative log-likelihood of <paramref name="target"/> under the log-probabilities <paramref name="input"/> (N, C, d…).</summary>
    public Tensor Compute(Tensor input, Tensor target, Tensor? weight)
    {
        if (input.dim() < 2 || target.dim() != input.dim() - 1)
            throw new GraphException($"node '{Node.Name}' ({Node.OpType}): input [{string.Join(",", input.shape)}] and target [{string.Join(",", target.shape)}] do not fit (N, C, d…) and (N, d…)");
        Tensor labels = target.to_type(ScalarType.Int64);
        Tensor counted = IgnoreIndex is long ignore ? labels.ne(ignore) : ones_like(labels, ScalarType.Bool);
        Tensor safe = where(counted, labels, zeros_like(labels));
        Tensor picked = input.gather(1, safe.unsqueeze(1)).squeeze(1);
        Tensor weights = weight is null ? ones_like(picked) : weight.index_select(0, safe.flatten()).reshape(safe.shape);
        weights = weights * counted.to_type(weights.dtype);
        Tensor loss = -picked * weights;
        return Reduction switch
        {
            "none" => loss,
            "sum" => loss.sum(),
            _ => loss.sum() / weights.sum(),
        };
    }
}
