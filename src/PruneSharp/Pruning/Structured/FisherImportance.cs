using PruneSharp.Graph;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Fisher pruning (Theis et al. 2018, "Faster gaze prediction with dense networks and Fisher pruning"; the same
/// quantity as Molchanov et al. 2019's Taylor criterion taken per sample and squared): removing channel c changes the
/// loss by about Δ_c = ½ · (1/N) · Σ_n t_{n,c}², where t_{n,c} is sample n's first-order term for the channel,
/// t_{n,c} = Σ_{w ∈ input slices of c in the consumers} w · ∂L_n/∂w. Because a consumer (Conv, Gemm, MatMul) is linear
/// in its input, that sum equals Σ a · ∂L_n/∂a over every position of c in the activations a the consumers read, which
/// is how it is computed: one forward and backward pass per calibration batch, in evaluation mode (BatchNorm uses its
/// running statistics, so samples do not interact and the batch gradient holds every sample's own gradient when the
/// per-sample losses are summed). Call <see cref="Observe"/> with the analysis of the model before scoring it.
/// </summary>
public sealed class FisherImportance : IGroupImportance
{
    GraphModule? _module;
    readonly Dictionary<int, Tensor> _scores = new();

    /// <summary>
    /// Accumulates Σ_n t_{n,c}² over <paramref name="batches"/> (inputs, one tensor per graph input, and targets).
    /// <paramref name="perSampleLoss"/> maps (output 0, targets) to one loss per sample, shape [batch]; the default is
    /// cross-entropy. Replaces what an earlier call observed.
    /// </summary>
    public void Observe(DependencyGraph graph, IEnumerable<(IReadOnlyList<Tensor> Inputs, Tensor Targets)> batches,
        Func<Tensor, Tensor, Tensor>? perSampleLoss = null)
    {
        perSampleLoss ??= (output, targets) => nn.functional.cross_entropy(output, targets, reduction: nn.Reduction.None);
        var module = graph.Module;
        var nodes = module.Graph.Nodes.ToDictionary(n => n.Name);
        // Per group, the activations its consumers read: values carrying its channels that are inputs of a reading node.
        var read = graph.Groups.ToDictionary(g => g.Id, g =>
        {
            var readers = g.Members.Where(m => m.Role == WeightRole.Reads).Select(m => nodes[m.Node]).ToList();
            return g.Values.Where(v => readers.Any(r => r.Inputs.Contains(v.Value))).ToList();
        });
        foreach (var (id, values) in read)
            foreach (var value in values.Where(v => v.Axis == 0))
                throw new InvalidOperationException($"Fisher importance: group {id}'s channels are on the batch axis of '{value.Value}', so per-sample terms are undefined");
        var names = read.Values.SelectMany(v => v).Select(v => v.Value).Distinct().ToList();

        var sums = graph.Groups.ToDictionary(g => g.Id, g => zeros(g.Size, dtype: float64));
        long samples = 0;
        bool training = module.training;
        module.eval();
        try
        {
            foreach (var (inputs, targets) in batches)
            {
                using var scope = NewDisposeScope();
                var captured = new Dictionary<string, Tensor>();
                var output = module.Run(inputs, captured, names)[0];
                var losses = perSampleLoss(output, targets);
                long batch = output.shape[0];
                if (losses.dim() != 1 || losses.shape[0] != batch)
                    throw new ArgumentException($"the per-sample loss must have shape [{batch}], got [{string.Join(",", losses.shape)}]");
                var activations = names.Where(captured.ContainsKey).ToList();
                var gradients = activations.Count == 0 ? Array.Empty<Tensor>()
                    : autograd.grad(new[] { losses.sum() }, activations.Select(n => captured[n]).ToList(), allow_unused: true);
                var terms = new Dictionary<string, Tensor>();
                for (int i = 0; i < activations.Count; i++)
                    if (gradients[i] is { } g && !g.IsInvalid) terms[activations[i]] = captured[activations[i]].detach() * g;
                foreach (var group in graph.Groups)
                {
                    var t = zeros(new[] { batch, group.Size }, dtype: float64);
                    foreach (var value in read[group.Id].Where(v => terms.ContainsKey(v.Value)))
                    {
                        // [batch, positions along the channel axis]: the sum over every other axis, per sample.
                        var term = terms[value.Value].movedim(new long[] { value.Axis }, new long[] { 1 });
                        var perPosition = term.dim() > 2 ? term.flatten(2).sum(2) : term;
                        t.index_add_(1, tensor(value.Channels.Select(c => (long)c).ToArray()),
                            perPosition.index_select(1, tensor(value.Positions)).to_type(ScalarType.Float64), 1);
                    }
                    sums[group.Id].add_(t.pow(2).sum(dim: 0));
                }
                samples += batch;
            }
            if (samples == 0) throw new ArgumentException("Fisher importance needs at least one calibration batch");
        }
        finally
        {
            module.train(training);
        }

        foreach (var score in _scores.Values) score.Dispose();
        _scores.Clear();
        foreach (var (id, sum) in sums) _scores[id] = sum * (0.5 / samples);
        foreach (var sum in sums.Values) sum.Dispose();
        _module = module;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="Observe"/> was not called for <paramref name="module"/>.</exception>
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        if (!ReferenceEquals(module, _module) || !_scores.TryGetValue(group.Id, out var score))
            throw new InvalidOperationException("Fisher importance needs per-sample gradients of this model: call Observe on calibration data first");
        return score.clone();
    }
}
