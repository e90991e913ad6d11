using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>The units that a structured pruning run removes.</summary>
public enum PruningUnit
{
    /// <summary>Single channels (filters, neurons): groups with <see cref="ChannelGroup.UnitSize"/> 1.</summary>
    Channel,
    /// <summary>Whole attention heads: groups whose units are heads (<see cref="ChannelGroup.IsHeads"/>).</summary>
    Head,
}

/// <summary>How many channels structured pruning removes, and where.</summary>
public sealed record ChannelPruningOptions
{
    /// <summary>Which groups are pruned: channel groups or attention-head groups (the ratio is then a fraction of heads).</summary>
    public PruningUnit Unit { get; init; } = PruningUnit.Channel;
    /// <summary>Fraction of channels to remove: of each group (local) or of all eligible channels (global).</summary>
    public double Ratio { get; init; } = 0.5;
    /// <summary>
    /// Rank channels of all groups together instead of per group: scores normalised by each group's mean, or as they
    /// are where the importance says they are comparable (<see cref="IGroupImportance.ComparableAcrossGroups"/>:
    /// BatchNorm scales).
    /// </summary>
    public bool Global { get; init; }
    /// <summary>Keep a multiple of this many channels in every pruned group (e.g. 8 for vector hardware), rounding the kept count down.</summary>
    public int RoundTo { get; init; } = 1;
    /// <summary>Never remove more than this fraction of one group (guards against layer collapse).</summary>
    public double MaxRatio { get; init; } = 0.9;
    /// <summary>
    /// Also prune groups whose removal is not exact (<see cref="ChannelGroup.IsExact"/> false: the hidden size of a
    /// transformer or ConvNeXt's channels, which LayerNorm normalises over); the pruned model then needs fine-tuning.
    /// </summary>
    public bool Approximate { get; init; }
    /// <summary>
    /// Analyse with <see cref="DependencyGraph.Build"/>'s narrowOutputs: channels that reach a graph output can go, the
    /// output getting narrower (an encoder's hidden size); such groups are approximate, so this needs <see cref="Approximate"/>.
    /// </summary>
    public bool NarrowOutputs { get; init; }
    /// <summary>
    /// With <see cref="Unit"/> <see cref="PruningUnit.Head"/>: also remove this fraction of every exact channel group
    /// (a transformer's FFN width) in the same run, ranked per group as the channels of a channel run; null: channels kept.
    /// </summary>
    public double? ChannelRatio { get; init; }
    /// <summary>
    /// Remove this fraction of the channel groups that are not exact (the hidden size, which LayerNorm normalises over)
    /// instead of <see cref="Ratio"/>; needs <see cref="Approximate"/>. Null: a channel run takes them at <see cref="Ratio"/>
    /// (with <see cref="Approximate"/>), a head run leaves them.
    /// </summary>
    public double? ApproximateRatio { get; init; }

    /// <summary>The options of one step of <paramref name="steps"/>: every ratio r becomes 1 - (1 - r)^(1/steps), so that the steps together remove r.</summary>
    public ChannelPruningOptions PerStep(int steps)
    {
        static double Step(double ratio, int steps) => 1 - Math.Pow(1 - ratio, 1.0 / steps);
        return this with
        {
            Ratio = Step(Ratio, steps),
            ChannelRatio = ChannelRatio is { } c ? Step(c, steps) : null,
            ApproximateRatio = ApproximateRatio is { } a ? Step(a, steps) : null,
        };
    }
    /// <summary>Node or weight names whose output channels are kept (e.g. the classifier); a name also covers weights under it (<c>fc</c> covers <c>fc.weight</c>).</summary>
    public IReadOnlyCollection<string> Ignore { get; init; } = Array.Empty<string>();
}

/// <summary>Chooses which channels of each group to remove from importance scores.</summary>
public static class ChannelSelection
{
    /// <summary>
    /// Removed channel indices per group id (groups with nothing removed are absent): the groups of the unit at
    /// <see cref="ChannelPruningOptions.Ratio"/>, and with a head unit and <see cref="ChannelPruningOptions.ChannelRatio"/>
    /// the exact channel groups too; the approximate groups at <see cref="ChannelPruningOptions.ApproximateRatio"/> if given.
    /// </summary>
    public static Dictionary<int, int[]> Select(DependencyGraph graph, IGroupImportance importance, ChannelPruningOptions options)
    {
        Check("ratio", options.Ratio);
        if (options.ChannelRatio is { } channelRatio)
        {
            Check("channel ratio", channelRatio);
            if (options.Unit != PruningUnit.Head) throw new ArgumentException("a channel ratio goes with head pruning (a channel run prunes its channels at the ratio)");
        }
        if (options.ApproximateRatio is { } approximateRatio)
        {
            Check("approximate ratio", approximateRatio);
            if (!options.Approximate) throw new ArgumentException("an approximate ratio (of the hidden size) needs approximate pruning: the kept channels are renormalised by LayerNorm");
        }
        if (!(options.MaxRatio > 0 && options.MaxRatio <= 1)) throw new ArgumentException($"max ratio must be in (0, 1], got {options.MaxRatio}");
        if (options.RoundTo < 1) throw new ArgumentException($"round-to must be at least 1, got {options.RoundTo}");
        foreach (string name in options.Ignore)
            if (!graph.Module.Graph.Nodes.Any(n => n.Name == name) && !graph.Module.Graph.Initializers.Keys.Any(k => Covers(name, k)))
                throw new ArgumentException($"--ignore '{name}': no node or weight of that name in the model");

        bool heads = options.Unit == PruningUnit.Head;
        var result = Select(graph, importance, options, options.Ratio, heads ? "heads" : "channels",
            g => g.IsHeads == heads && (g.IsExact || (options.Approximate && (heads || options.ApproximateRatio is null))));
        if (heads && options.ChannelRatio is { } channels)
            foreach (var (group, removed) in Select(graph, importance, options, channels, "channels", g => !g.IsHeads && g.IsExact)) result[group] = removed;
        if (options.ApproximateRatio is { } approximate)
            foreach (var (group, removed) in Select(graph, importance, options, approximate, "channels", g => !g.IsHeads && !g.IsExact)) result[group] = removed;
        return result;
    }

    static void Check(string what, double ratio)
    {
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentException($"{what} must be in [0, 1), got {ratio}");
    }

    /// <summary>The channels removed at <paramref name="ratio"/> from the groups that <paramref name="eligible"/> selects.</summary>
    static Dictionary<int, int[]> Select(DependencyGraph graph, IGroupImportance importance, ChannelPruningOptions options, double ratio, string units,
        Func<ChannelGroup, bool> eligible)
    {
        var groups = graph.Groups.Where(g => eligible(g) && !IsIgnored(g, options.Ignore)).ToList();
        if (options.RoundTo > 1 && groups.Count > 0 && groups.All(g => g.Size <= options.RoundTo))
            throw new ArgumentException($"round-to {options.RoundTo} is at least the size of every group (the largest has {groups.Max(g => g.Size)} {units}): nothing would be removed");
        var scores = groups.ToDictionary(g => g.Id, g => importance.Score(g, graph.Module).to_type(ScalarType.Float64).cpu());
        var removeCount = options.Global ? GlobalCounts(groups, scores, ratio, options.MaxRatio, !importance.ComparableAcrossGroups) : groups.ToDictionary(g => g.Id, g => (int)Math.Round(ratio * g.Size));

        var result = new Dictionary<int, int[]>();
        foreach (var group in groups)
        {
            int cap = (int)Math.Floor(options.MaxRatio * group.Size);
            int kept = Rounded(group.Size - Math.Min(removeCount[group.Id], cap), group.Size, options.RoundTo);
            int remove = group.Size - kept;
            if (remove <= 0) continue;
            // Lowest scores go; ties broken by channel index (stable sort).
            var groupScores = scores[group.Id].data<double>().ToArray();
            var order = Enumerable.Range(0, groupScores.Length).ToArray();
            Array.Sort(order, (a, b) => groupScores[a] != groupScores[b] ? groupScores[a].CompareTo(groupScores[b]) : a.CompareTo(b));
            var gone = new HashSet<int>(order.Take(remove));
            // A value that would lose every position (a Split part, a Slice of a channel range) keeps its best channel.
            foreach (var value in group.Values)
                if (value.Channels.All(gone.Contains))
                    gone.Remove(value.Channels.Distinct().OrderByDescending(c => groupScores[c]).ThenBy(c => c).First());
            if (gone.Count > 0) result[group.Id] = gone.Order().ToArray();
        }
        return result;
    }

    static Dictionary<int, int> GlobalCounts(List<ChannelGroup> groups, Dictionary<int, Tensor> scores, double ratio, double maxRatio, bool normalise)
    {
        var all = new List<(double Score, int Group)>();
        foreach (var group in groups)
        {
            var s = scores[group.Id];
            double mean = normalise ? s.mean().item<double>() : 1;
            all.AddRange(s.data<double>().ToArray().Select(v => (mean > 0 ? v / mean : v, group.Id)));
        }
        int target = (int)Math.Round(ratio * all.Count);
        var counts = groups.ToDictionary(g => g.Id, _ => 0);
        var caps = groups.ToDictionary(g => g.Id, g => (int)Math.Floor(maxRatio * g.Size));
        foreach (var (_, group) in all.OrderBy(t => t.Score))
        {
            if (target == 0) break;
            if (counts[group] >= caps[group]) continue;
            counts[group]++;
            target--;
        }
        return counts;
    }

    /// <summary>
    /// Kept channels rounded down to a multiple of <paramref name="roundTo"/> (as Torch-Pruning rounds, so that both
    /// keep the same widths), but never below one multiple nor above the group's size.
    /// </summary>
    static int Rounded(int kept, int size, int roundTo)
    {
        if (roundTo <= 1) return Math.Max(1, kept);
        return Math.Clamp(Math.Max(kept / roundTo * roundTo, roundTo), 1, size);
    }

    static bool IsIgnored(ChannelGroup group, IReadOnlyCollection<string> ignore) =>
        ignore.Count > 0 && (group.Producers.Any(ignore.Contains)
            || group.Members.Any(m => m.Role == Ops.WeightRole.Produces && ignore.Any(i => Covers(i, m.Weight))));

    static bool Covers(string name, string weight) => weight == name || weight.StartsWith(name + ".", StringComparison.Ordinal);
}
