using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Ops;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// A channel criterion used as a weight criterion: the activation statistic of each output channel (neuron) of a
/// layer — APoZ (<see cref="ApozImportance"/>, score 1 − APoZ) or activation entropy (<see cref="EntropyImportance"/>)
/// — is given to every weight that computes that channel (its filter, its row). Channels come from the model's
/// <see cref="DependencyGraph"/>, so the model must be a <see cref="GraphModule"/>; a weight whose outputs reach no
/// observed activation (the classifier: no ReLU follows it) has no score and must be left out of the scope.
/// With element granularity the whole channel's weights tie, so the lowest channels go first, whole.
/// </summary>
public sealed class ChannelActivationCriterion : Criterion, IObservingCriterion, IInputObservingCriterion
{
    readonly Func<IGroupImportance> _create;

    ChannelActivationCriterion(string name, Func<IGroupImportance> create)
    {
        Name = name;
        _create = create;
    }

    /// <summary>APoZ of each output channel after its ReLU (score 1 − APoZ: mostly-zero channels go first).</summary>
    public static ChannelActivationCriterion Apoz() => new("apoz", () => new ApozImportance());

    /// <summary>Entropy of each output channel's pooled activations over <paramref name="bins"/> bins (low entropy goes first).</summary>
    public static ChannelActivationCriterion Entropy(int bins = 16) => new("entropy", () => new EntropyImportance(bins));

    /// <inheritdoc />
    public override string Name { get; }

    /// <inheritdoc />
    public override Tensor Score(string name, Tensor weight, ScoringContext context)
    {
        try
        {
            return context.Statistic(Name, name).detach().to(ScalarType.Float32);
        }
        catch (PruningException)
        {
            throw new PruningException($"{Name} scores a weight by the activations of its output channels, and no ReLU-like activation follows those of '{name}' " +
                $"(the classifier?): leave it out (--exclude {name}, or --first-last keep)");
        }
    }

    /// <inheritdoc />
    public ScoringContext Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<Batch> batches, IReadOnlyCollection<string> parameters)
    {
        if (model is not GraphModule module)
            throw new PruningException($"{Name} reads channels from the model's graph; it needs an ONNX or zoo model, not a {model.GetType().Name}");
        return ObserveInputs(module, batches.Select(b => (IReadOnlyList<Tensor>)new[] { b.Inputs }).ToList(), parameters);
    }

    /// <inheritdoc />
    public ScoringContext ObserveInputs(GraphModule module, IReadOnlyList<IReadOnlyList<Tensor>> inputs, IReadOnlyCollection<string> parameters)
    {
        if (inputs.Count == 0) throw new PruningException($"{Name} needs at least one batch of data");
        var graph = DependencyGraph.Build(module, inputs[0]);
        var importance = _create();
        switch (importance)
        {
            case ApozImportance apoz: apoz.Observe(graph, inputs); break;
            case EntropyImportance entropy: entropy.Observe(graph, inputs); break;
        }
        var weights = module.Weights();
        var wanted = parameters.ToHashSet(StringComparer.Ordinal);
        var scores = new Dictionary<string, Tensor>();
        var covered = new Dictionary<string, Tensor>();
        foreach (var group in graph.Groups)
        {
            Tensor channelScores;
            try
            {
                channelScores = importance.Score(group, module).to(ScalarType.Float32);
            }
            catch (InvalidOperationException)
            {
                continue;
            }
            foreach (var member in group.Members.Where(m => m.Role == WeightRole.Produces && wanted.Contains(m.Weight)))
            {
                var weight = weights[member.Weight];
                if (!scores.ContainsKey(member.Weight))
                {
                    scores[member.Weight] = zeros(weight.shape, dtype: ScalarType.Float32);
                    covered[member.Weight] = zeros(weight.shape[member.Axis], dtype: ScalarType.Bool);
                }
                var positions = tensor(member.Positions);
                var values = channelScores.index_select(0, tensor(member.Channels.Select(c => (long)c).ToArray()));
                var shape = Enumerable.Repeat(1L, (int)weight.dim()).ToArray();
                shape[member.Axis] = values.shape[0];
                var slices = values.reshape(shape).expand(weight.index_select(member.Axis, positions).shape).contiguous();
                scores[member.Weight].index_copy_(member.Axis, positions, slices);
                covered[member.Weight].index_fill_(0, positions, true);
            }
        }
        var complete = scores.Where(kv => covered[kv.Key].all().item<bool>()).ToDictionary(kv => kv.Key, kv => kv.Value);
        return ScoringContext.OfStatistic(Name, complete);
    }
}
