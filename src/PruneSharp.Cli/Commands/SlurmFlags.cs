using System.CommandLine;
using PruneSharp.Sweeps;

namespace PruneSharp.Cli.Commands;

/// <summary>The Slurm settings of <c>sweep --backend slurm</c>.</summary>
sealed class SlurmFlags
{
    public Option<string?> Partition { get; } = new("--slurm-partition") { Description = "--backend slurm: the partition (default: the cluster's)." };
    public Option<string?> Time { get; } = new("--slurm-time") { Description = "--backend slurm: time limit per cell, e.g. 01:00:00." };
    public Option<int?> Cpus { get; } = new("--slurm-cpus") { Description = "--backend slurm: CPUs per cell." };

    public IEnumerable<Option> All => new Option[] { Partition, Time, Cpus };

    /// <summary>The job's settings; <paramref name="maxRunning"/> (from <c>--jobs</c>, if given) throttles how many cells run at once.</summary>
    public SlurmJob Job(ParseResult parse, string name, int? maxRunning) =>
        new($"prunesharp-{name}", parse.GetValue(Partition), parse.GetValue(Time), parse.GetValue(Cpus), maxRunning);
}
