using PruneSharp.Graph;
using PruneSharp.Metrics;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>Channels of one group before and after pruning.</summary>
/// <param name="Producers">The nodes that create the group's channels.</param>
/// <param name="Before">Channels before.</param>
/// <param name="After">Channels after.</param>
/// <param name="Approximations">Why removing the group's channels is not exact (empty if it is; see <see cref="ChannelGroup.Approximations"/>).</param>
public sealed record GroupChange(IReadOnlyList<string> Producers, int Before, int After, IReadOnlyList<string> Approximations);

/// <summary>What structured pruning did: the smaller model, per-group widths, what was left out, and sizes.</summary>
/// <param name="Model">The pruned (smaller, dense) model.</param>
/// <param name="Groups">Widths of the groups of the first analysis, before and after all steps.</param>
/// <param name="Blocked">Channels the analysis left out, with reasons.</param>
/// <param name="DenseMacs">MACs of one sample before.</param>
/// <param name="PrunedMacs">MACs of one sample after.</param>
/// <param name="DenseParameters">Parameters before.</param>
/// <param name="PrunedParameters">Parameters after.</param>
public sealed record ChannelPruningResult(GraphModule Model, IReadOnlyList<GroupChange> Groups, IReadOnlyList<BlockedGroup> Blocked,
    long DenseMacs, long PrunedMacs, long DenseParameters, long PrunedParameters);

/// <summary>
/// Structured pruning end to end: analyse channel coupling, score groups, remove channels by surgery, optionally in
/// several steps with fine-tuning between them (each step removes the same fraction of what is left, so that the
/// target is reached at the last one) and with least-squares reconstruction of the layers that read removed channels.
/// </summary>
public static class ChannelPruner
{
    /// <summary>Prunes <paramref name="model"/> (not modified) and returns the smaller model with a report.</summary>
    /// <param name="model">The model.</param>
    /// <param name="sample">One sample input per graph input (batch of 1 is enough): shapes are observed on it.</param>
    /// <param name="importance">The group importance criterion.</param>
    /// <param name="options">Ratio, scope, rounding, exclusions.</param>
    /// <param name="steps">Number of pruning steps (1 = one-shot).</param>
    /// <param name="fineTune">Called on the pruned model after every step but the last (e.g. a short training run).</param>
    /// <param name="calibration">If given, inputs for reconstruction after every step.</param>
    /// <param name="beforeScoring">Called with the current model's analysis (its <see cref="DependencyGraph.Module"/> is the model) before every scoring: e.g. to accumulate gradients for Taylor importance, or activation statistics for APoZ and Fisher.</param>
    public static ChannelPruningResult Prune(GraphModule model, IReadOnlyList<Tensor> sample, IGroupImportance importance,
        ChannelPruningOptions options, int steps = 1, Action<GraphModule>? fineTune = null,
        IReadOnlyList<Tensor>? calibration = null, Action<DependencyGraph>? beforeScoring = null)
    {
        if (steps < 1) throw new ArgumentException($"steps must be at least 1, got {steps}");
        var dense = MacCounter.Measure(model, sample);
        long denseParameters = model.parameters().Sum(p => p.numel());
        var first = DependencyGraph.Build(model, sample, narrowOutputs: options.NarrowOutputs);
        var widths = first.Groups.ToDictionary(g => g.Id, g => g.Size);

        // Each step keeps the same fraction q of what is left: q^steps = 1 - ratio (for each ratio of the options).
        var perStep = options.PerStep(steps);
        GraphModule current = model;
        DependencyGraph graph = first;
        for (int step = 1; step <= steps; step++)
        {
            if (step > 1) graph = DependencyGraph.Build(current, sample, narrowOutputs: options.NarrowOutputs);
            beforeScoring?.Invoke(graph);
            var stepOptions = perStep with { RoundTo = step == steps ? options.RoundTo : 1 };
            var removed = ChannelSelection.Select(graph, importance, stepOptions);
            var pruned = Surgery.Apply(graph, removed);
            if (calibration != null) Reconstruction.Refit(current, pruned, graph, removed, calibration);
            if (!ReferenceEquals(current, model)) current.Dispose();
            current = pruned;
            if (step < steps) fineTune?.Invoke(current);
        }

        var after = MacCounter.Measure(current, sample);
        var final = DependencyGraph.Build(current, sample, narrowOutputs: options.NarrowOutputs);
        var changes = first.Groups.Select(g => new GroupChange(g.Producers, g.Size,
            final.Groups.FirstOrDefault(f => f.Producers.SequenceEqual(g.Producers))?.Size ?? g.Size, g.Approximations)).ToList();
        return new ChannelPruningResult(current, changes, first.Blocked, dense.DenseMacs, after.DenseMacs,
            denseParameters, current.parameters().Sum(p => p.numel()));
    }

}
