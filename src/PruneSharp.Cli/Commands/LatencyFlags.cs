using System.CommandLine;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary><c>--latency</c>: time the written model beside the dense one (<see cref="LatencyDescription"/>) and record it.</summary>
sealed class LatencyFlags
{
    public Option<bool> Latency { get; } = new("--latency") { Description = "Also measure the written model's latency: ONNX Runtime at batch 1, alternately with the dense model (median after a warm-up call), recorded as latency_ms." };

    public Option<int> Threads { get; } = new("--latency-threads") { Description = "--latency: ONNX Runtime's intra-op threads.", DefaultValueFactory = _ => new LatencyDescription().Threads };

    public Option<int> Rounds { get; } = new("--latency-rounds") { Description = "--latency: timed rounds.", DefaultValueFactory = _ => new LatencyDescription().Rounds };

    public IEnumerable<Option> All => [Latency, Threads, Rounds];

    /// <summary>The latency step the flags ask for (null: none).</summary>
    public LatencyDescription? Description(ParseResult parse)
    {
        if (!parse.GetValue(Latency))
        {
            if (parse.GetResult(Threads) is { Implicit: false } || parse.GetResult(Rounds) is { Implicit: false })
                throw new ArgumentException("--latency-threads and --latency-rounds go with --latency");
            return null;
        }
        return new LatencyDescription(parse.GetValue(Threads), parse.GetValue(Rounds));
    }
}
