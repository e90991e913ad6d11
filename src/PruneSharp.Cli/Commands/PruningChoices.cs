using System.Text.RegularExpressions;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;

namespace PruneSharp.Cli.Commands;

/// <summary>Parses the unstructured pruning choices of the command line into the engine's parts.</summary>
static class PruningChoices
{
    public const string MethodHelp = "magnitude, random, snip, taylor, obd, movement, apoz, entropy or loss-change (unstructured; all but magnitude and random need --data); with --structured channel|head: l1, l2, fpgm, bn-scale, taylor, apoz, fisher or random; with --structured block: norm (default), influence or random";
    public const string GranularityHelp = "element, N:M (e.g. 2:4), block:RxC (e.g. block:4x4), kernel, or pattern[:K] (K kept entries of each 3x3 kernel, default 4)";
    public const string ScopeHelp = "local (every layer to the same sparsity), global (one magnitude threshold) or erk (Erdős–Rényi-kernel densities)";

    public static Criterion Criterion(string method, long seed) => method.ToLowerInvariant() switch
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
        _ => throw new ArgumentException($"--method '{method}' is not one of {MethodHelp}"),
    };

    public static Granularity Granularity(string text)
    {
        string lower = text.ToLowerInvariant();
        if (lower == "element") return new ElementGranularity();
        if (lower == "kernel") return new KernelGranularity();
        if (Regex.Match(lower, @"^(\d+):(\d+)$") is { Success: true } nm)
            return Checked(() => new NMGranularity(int.Parse(nm.Groups[1].Value), int.Parse(nm.Groups[2].Value)), text);
        if (Regex.Match(lower, @"^block:(\d+)x(\d+)$") is { Success: true } block)
            return Checked(() => new BlockGranularity(long.Parse(block.Groups[1].Value), long.Parse(block.Groups[2].Value)), text);
        if (Regex.Match(lower, @"^pattern(?::(\d+))?$") is { Success: true } pattern)
            return Checked(() => new KernelPatternGranularity(KernelPatternSet.AllWithCentre(3, pattern.Groups[1].Success ? int.Parse(pattern.Groups[1].Value) : 4)), text);
        throw new ArgumentException($"--granularity '{text}' is not one of {GranularityHelp}");
    }

    public static Allocation Allocation(string scope) => scope.ToLowerInvariant() switch
    {
        "local" => Pruning.Allocation.Allocation.Local,
        "global" => Pruning.Allocation.Allocation.Global,
        "erk" => Pruning.Allocation.Allocation.Erk,
        _ => throw new ArgumentException($"--scope '{scope}' is not one of {ScopeHelp}"),
    };

    /// <summary>The sparsity to prune to: the given one (checked), or the one a pattern granularity fixes.</summary>
    public static double Sparsity(double? given, Granularity granularity)
    {
        if (given is { } s)
        {
            if (!(s >= 0 && s < 1)) throw new ArgumentException($"--sparsity must be in [0, 1), got {s}");
            return s;
        }
        return granularity is PatternGranularity pattern ? 1 - pattern.Density
            : throw new ArgumentException($"--sparsity is required for {granularity.Name} granularity");
    }

    static Granularity Checked(Func<Granularity> create, string text)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--granularity '{text}': {e.Message}", e);
        }
    }
}
