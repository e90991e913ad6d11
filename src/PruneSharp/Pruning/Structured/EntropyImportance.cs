using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Activation entropy (Luo &amp; Wu 2017, "An Entropy-based Pruning Method for CNN Compression"): a channel whose
/// activations hardly vary over the data carries little information. Per sample, channel c's activation (after its
/// ReLU-like op if one follows the channels, else the producer's output) is averaged over every other axis (global
/// average pooling for a convolution), those values over all samples are put into <see cref="Bins"/> equal bins
/// between their minimum and maximum, and the score is the entropy H_c = −Σ p_i ln p_i of the bin frequencies
/// (0 for a constant channel; at most ln Bins). Higher keeps. Call <see cref="Observe"/> before scoring.
/// </summary>
public sealed class EntropyImportance(int bins = 16) : IGroupImportance
{
    GraphModule? _module;
    readonly Dictionary<int, Tensor> _scores = new();

    /// <summary>The number of histogram bins.</summary>
    public int Bins { get; } = bins >= 2 ? bins : throw new ArgumentOutOfRangeException(nameof(bins), bins, "entropy needs at least 2 bins");

    /// <summary>Records every group's per-sample channel means over <paramref name="batches"/> (evaluation mode) and computes the entropies.</summary>
    /// <exception cref="ArgumentException">No batch.</exception>
    public void Observe(DependencyGraph graph, IEnumerable<IReadOnlyList<Tensor>> batches)
    {
        var module = graph.Module;
        var chosen = new Dictionary<int, GroupValue>();
        foreach (var group in graph.Groups)
        {
            var value = group.Values.FirstOrDefault(v => v.OpType == "Relu") ?? group.Values.FirstOrDefault();
            if (value is not null && value.Axis != 0) chosen[group.Id] = value;
        }
        var names = chosen.Values.Select(v => v.Value).Distinct().ToList();
        var samples = chosen.ToDictionary(kv => kv.Key, _ => new List<Tensor>());
        bool training = module.training;
        module.eval();
        try
        {
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                var captured = new Dictionary<string, Tensor>();
                using (no_grad()) module.Run(batch, captured, names);
                foreach (var (id, value) in chosen)
                {
                    if (!captured.TryGetValue(value.Value, out var activation)) continue;
                    var moved = activation.movedim(new long[] { value.Axis }, new long[] { 1 });
                    var means = moved.dim() > 2 ? moved.flatten(2).mean(new long[] { 2 }) : moved;
                    samples[id].Add(means.index_select(1, tensor(value.Positions)).to(ScalarType.Float64).MoveToOuterDisposeScope());
                }
            }
            if (samples.Values.All(s => s.Count == 0)) throw new ArgumentException("activation entropy needs at least one calibration batch");
        }
        finally
        {
            module.train(training);
        }
        foreach (var score in _scores.Values) score.Dispose();
        _scores.Clear();
        foreach (var group in graph.Groups)
        {
            if (!chosen.TryGetValue(group.Id, out var value) || samples[group.Id].Count == 0) continue;
            using var all = cat(samples[group.Id].ToArray(), 0);
            var perPosition = Entropy(all.t().contiguous(), Bins);
            _scores[group.Id] = zeros(group.Size, dtype: ScalarType.Float64).index_copy_(0, tensor(value.Channels.Select(c => (long)c).ToArray()), perPosition);
            foreach (var s in samples[group.Id]) s.Dispose();
        }
        _module = module;
    }

    /// <summary>The entropy of each row of <paramref name="values"/> [channels, samples] over <paramref name="bins"/> equal bins from the row's minimum to its maximum.</summary>
    public static Tensor Entropy(Tensor values, int bins)
    {
        using var scope = NewDisposeScope();
        var low = values.amin(new long[] { 1 }, keepdim: true);
        var span = values.amax(new long[] { 1 }, keepdim: true) - low;
        var index = ((values - low) / span.clamp_min(1e-30) * bins).floor().clamp(0, bins - 1).to(ScalarType.Int64);
        var counts = zeros(values.shape[0], bins, dtype: ScalarType.Float64).scatter_add_(1, index, ones_like(values, dtype: ScalarType.Float64));
        var p = counts / values.shape[1];
        var entropy = -(p * p.clamp_min(1e-300).log()).sum(dim: 1);
        return entropy.masked_fill(span.squeeze(1).le(0), 0).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="Observe"/> was not called for <paramref name="module"/>, or the group carries no observed activation.</exception>
    public Tensor Score(ChannelGroup group, GraphModule module)
    {
        if (!ReferenceEquals(module, _module))
            throw new InvalidOperationException("activation entropy needs activation statistics of this model: call Observe on calibration data first");
        if (!_scores.TryGetValue(group.Id, out var score))
            throw new InvalidOperationException($"activation entropy: no activation carries the channels of group {group.Id} (produced by {string.Join(", ", group.Producers)})");
        return score.clone();
    }
}
