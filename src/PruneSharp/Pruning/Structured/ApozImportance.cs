using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Average percentage of zeros (APoZ, Hu et al. 2016, "Network Trimming"): a channel whose activations after a
/// ReLU-like op are mostly zero on calibration data contributes little. For channel c,
/// APoZ_c = (zero entries of c in every ReLU-like output that carries it, over all samples and positions) / (entries),
/// and the score is 1 − APoZ_c (higher = keep). ReLU-like means Relu, or Clip with a lower bound of exactly 0 (ReLU6).
/// Call <see cref="Observe"/> with the analysis of the model before scoring it (e.g. from
/// <see cref="ChannelPruner.Prune"/>'s beforeScoring); a group whose channels reach no ReLU-like op cannot be scored.
/// </summary>
public sealed class ApozImportance : IGroupImportance
{
    GraphModule? _module;
    readonly Dictionary<int, Tensor> _scores = new();

    /// <summary>
    /// Counts the zeros of every ReLU-like output that carries a group's channels, over <paramref name="batches"/>
    /// (one tensor per graph input each), in evaluation mode. Replaces what an earlier call observed.
    /// </summary>
    public void Observe(DependencyGraph graph, IEnumerable<IReadOnlyList<Tensor>> batches)
    {
        var module = graph.Module;
        var nodes = module.Graph.Nodes.ToDictionary(n => n.Name);
        var clipMinimums = graph.Groups.SelectMany(g => g.Values).Where(v => v.OpType == "Clip")
            .Select(v => nodes[v.Producer]).Where(n => n.InputOrNull(1) != null).Select(n => n.Inputs[1]).Distinct().ToList();
        var candidates = graph.Groups.ToDictionary(g => g.Id, g => g.Values.Where(v => v.OpType is "Relu" or "Clip").ToList());
        var names = candidates.Values.SelectMany(v => v).Select(v => v.Value).Concat(clipMinimums).Distinct().ToList();

        var zeroCounts = graph.Groups.ToDictionary(g => g.Id, g => zeros(g.Size, dtype: float64));
        var entries = graph.Groups.ToDictionary(g => g.Id, g => zeros(g.Size, dtype: float64));
        HashSet<string>? reluLike = null;
        bool training = module.training;
        module.eval();
        try
        {
            int count = 0;
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                var captured = new Dictionary<string, Tensor>();
                using (no_grad()) module.Run(batch, captured, names);
                reluLike ??= ReluLike(candidates.Values.SelectMany(v => v), nodes, captured);
                var zerosAlong = new Dictionary<string, Tensor>();
                foreach (var group in graph.Groups)
                    foreach (var value in candidates[group.Id].Where(v => reluLike.Contains(v.Value)))
                    {
                        var activation = captured[value.Value];
                        if (!zerosAlong.TryGetValue(value.Value, out var along))
                        {
                            var others = Enumerable.Range(0, (int)activation.dim()).Where(d => d != value.Axis).Select(d => (long)d).ToArray();
                            var isZero = activation.eq(0).to_type(ScalarType.Float64);
                            zerosAlong[value.Value] = along = others.Length == 0 ? isZero : isZero.sum(others);
                        }
                        var channels = tensor(value.Channels.Select(c => (long)c).ToArray());
                        zeroCounts[group.Id].index_add_(0, channels, along.index_select(0, tensor(value.Positions)), 1);
                        entries[group.Id].index_add_(0, channels, full(value.Positions.Length, (double)(activation.numel() / activation.shape[value.Axis]), dtype: float64), 1);
                    }
                count++;
            }
            if (count == 0) throw new ArgumentException("APoZ needs at least one calibration batch");
        }
        finally
        {
            module.train(training);
        }

        foreach (var score in _scores.Values) score.Dispose();
        _scores.Clear();
        foreach (var group in graph.Groups)
        {
            if (candidates[group.Id].Any(v => reluLike!.Contains(v.Value)))
                _scores[group.Id] = 1 - zeroCounts[group.Id] / entries[group.Id];
            zeroCounts[group.Id].Dispose();
            entries[group.Id].Dispose();
        }
        _module = module;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">
    /// <see cref="Observe"/> was not called for <paramref name="module"/>, or no ReLU-like op follows the group's channels.
    /// </exception>
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        if (!ReferenceEquals(module, _module))
            throw new InvalidOperationException("APoZ importance needs activation statistics of this model: call Observe on calibration data first");
        if (!_scores.TryGetValue(group.Id, out var score))
            throw new InvalidOperationException(
                $"APoZ importance: no ReLU-like activation (Relu, or Clip with minimum 0) follows the channels of group {group.Id} " +
                $"(produced by {string.Join(", ", group.Producers)}), so their zeros cannot be counted; use another criterion for this model or --ignore these producers");
        return score.clone();
    }

    /// <summary>The candidate values produced by Relu, or by Clip whose lower bound is exactly 0.</summary>
    static HashSet<string> ReluLike(IEnumerable<GroupValue> candidates, Dictionary<string, Node> nodes, Dictionary<string, Tensor> captured)
    {
        var result = new HashSet<string>();
        foreach (var value in candidates)
        {
            if (value.OpType == "Relu") { result.Add(value.Value); continue; }
            var node = nodes[value.Producer];
            double? minimum = node.InputOrNull(1) is { } min
                ? captured.TryGetValue(min, out var bound) && bound.numel() == 1 ? bound.to_type(ScalarType.Float64).item<double>() : null
                : node.Attributes.ContainsKey("min") ? node.GetFloat("min", float.NegativeInfinity) : null;
            if (minimum == 0) result.Add(value.Value);
        }
        return result;
    }
}
