using System.Text.RegularExpressions;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;

namespace PruneSharp.Pipelines;

/// <summary>
/// Reads the names of the unstructured pruning parts (method, granularity, scope, schedule) into the engine's parts,
/// for command-line flags and recipes alike; every error names the field it came from (<c>--method</c>,
/// <c>stages[0].method</c>).
/// </summary>
public static class PruningParts
{
    /// <summary>The unstructured methods (criteria) by name.</summary>
    public static IReadOnlyList<string> Methods { get; } = new[] { "magnitude", "random", "snip", "taylor", "obd", "movement", "apoz", "entropy", "loss-change", "wanda" };

    /// <summary>The scopes (allocations) by name.</summary>
    public static IReadOnlyList<string> Scopes { get; } = new[] { "local", "global", "erk" };

    /// <summary>The schedules' forms.</summary>
    public static IReadOnlyList<string> Schedules { get; } = new[] { "oneshot", "iterative:K", "gradual" };

    /// <summary>The method names with what they need, for help texts.</summary>
    public const string MethodHelp = "magnitude, random, snip, taylor, obd, movement, apoz, entropy, loss-change or wanda (unstructured; all but magnitude and random need --data, and without labels only apoz, entropy and wanda use it); with --structured channel|head: l1, l2, fpgm, bn-scale, taylor, apoz, fisher or random; with --structured block: norm (default), influence or random";

    /// <summary>The granularity forms, for help texts.</summary>
    public const string GranularityHelp = "element, N:M (e.g. 2:4), block:RxC (e.g. block:4x4), kernel, or pattern[:K] (K kept entries of each 3x3 kernel, default 4)";

    /// <summary>The scopes with their meaning, for help texts.</summary>
    public const string ScopeHelp = "local (every layer to the same sparsity), global (one magnitude threshold) or erk (Erdős–Rényi-kernel densities)";

    /// <summary>The criterion named <paramref name="method"/>; <paramref name="seed"/> seeds the random one.</summary>
    public static Criterion Criterion(string method, long seed, string field = "--method") => method.ToLowerInvariant() switch
    {
        "magnitude" => new MagnitudeCriterion(),
        "random" => new RandomCriterion(seed),
        "snip" => new SnipCriterion(),
        "taylor" => new TaylorCriterion(),
        "obd" => new ObdCriterion(),
        "movement" => new MovementCriterion(),
        "apoz" => ChannelActivationCriterion.Apoz(),
        "entropy" => ChannelActivationCriterion.Entropy(),
        "loss-change" => new LossChangeCriterion(),
        "wanda" => new WandaCriterion(),
        _ => throw new ArgumentException($"{field} '{method}' is not one of {(field == "--method" ? MethodHelp : string.Join(", ", Methods))}"),
    };

    /// <summary>The granularity written as <paramref name="text"/> (<see cref="GranularityHelp"/>).</summary>
    public static Granularity Granularity(string text, string field = "--granularity")
    {
        string lower = text.ToLowerInvariant();
        if (lower == "element") return new ElementGranularity();
        if (lower == "kernel") return new KernelGranularity();
        if (Regex.Match(lower, @"^(\d+):(\d+)$") is { Success: true } nm)
            return Checked(() => new NMGranularity(int.Parse(nm.Groups[1].Value), int.Parse(nm.Groups[2].Value)), text, field);
        if (Regex.Match(lower, @"^block:(\d+)x(\d+)$") is { Success: true } block)
            return Checked(() => new BlockGranularity(long.Parse(block.Groups[1].Value), long.Parse(block.Groups[2].Value)), text, field);
        if (Regex.Match(lower, @"^pattern(?::(\d+))?$") is { Success: true } pattern)
            return Checked(() => new KernelPatternGranularity(KernelPatternSet.AllWithCentre(3, pattern.Groups[1].Success ? int.Parse(pattern.Groups[1].Value) : 4)), text, field);
        throw new ArgumentException($"{field} '{text}' is not one of {GranularityHelp}");
    }

    /// <summary>The allocation named <paramref name="scope"/>.</summary>
    public static Allocation Allocation(string scope, string field = "--scope") => scope.ToLowerInvariant() switch
    {
        "local" => Pruning.Allocation.Allocation.Local,
        "global" => Pruning.Allocation.Allocation.Global,
        "erk" => Pruning.Allocation.Allocation.Erk,
        _ => throw new ArgumentException($"{field} '{scope}' is not one of {ScopeHelp}"),
    };

    /// <summary>The sparsity to prune to: the given one (checked), or the one a pattern granularity fixes.</summary>
    public static double Sparsity(double? given, Granularity granularity, string field = "--sparsity")
    {
        if (given is { } s)
        {
            if (!(s >= 0 && s < 1)) throw new ArgumentException($"{field} must be in [0, 1), got {s}");
            return s;
        }
        return granularity is PatternGranularity pattern ? 1 - pattern.Density
            : throw new ArgumentException($"{field} is required for {granularity.Name} granularity");
    }

    /// <summary>Rounds of a prune schedule: 1 for oneshot, K for iterative:K, 0 for gradual.</summary>
    public static int Rounds(string schedule, string field = "--schedule")
    {
        string lower = schedule.ToLowerInvariant();
        if (lower == "oneshot") return 1;
        if (lower == "gradual") return 0;
        if (Regex.Match(lower, @"^iterative:(\d+)$") is { Success: true } m && int.TryParse(m.Groups[1].Value, out int k) && k >= 1) return k;
        throw new ArgumentException($"{field} '{schedule}' is not one of oneshot, iterative:K (K ≥ 1), gradual");
    }

    static Granularity Checked(Func<Granularity> create, string text, string field)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            // The reason without the parameter name and value that ArgumentException appends.
            string reason = e.Message.Split(" (Parameter '")[0];
            throw new ArgumentException($"{field} '{text}': {reason}", e);
        }
    }
}
