using PruneSharp.Metrics;

namespace PruneSharp.Runs;

/// <summary>
/// What a run ended with, written in one transaction together with its final status: final metrics by name (see
/// <see cref="MetricNames"/>), the sparsity of each layer, and the files it wrote.
/// </summary>
public sealed record RunOutcome
{
    /// <summary>An outcome with nothing in it (a run that failed before measuring anything).</summary>
    public static RunOutcome Empty { get; } = new();

    /// <summary>Final metrics by name (e.g. <c>accuracy</c>, <c>sparsity</c>, <c>macs</c>, <c>latency_ms</c>).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Per-layer parameters and non-zeros of the final model.</summary>
    public IReadOnlyList<ParameterSparsity> Layers { get; init; } = [];

    /// <summary>Files the run wrote.</summary>
    public IReadOnlyList<RunArtifact> Artifacts { get; init; } = [];
}
