using System.Diagnostics;

namespace PruneSharp.Metrics;

/// <summary>Latency of one contender: the median and the spread (10th and 90th percentile) of its timed calls, in seconds.</summary>
/// <param name="Median">Median seconds per call.</param>
/// <param name="Low">10th percentile.</param>
/// <param name="High">90th percentile.</param>
/// <param name="Samples">Timed calls.</param>
public sealed record LatencyStats(double Median, double Low, double High, int Samples)
{
    /// <summary>The fastest timed call (0 when not recorded): on a loaded machine the closest to the kernel's own cost.</summary>
    public double Fastest { get; init; }
}

/// <summary>
/// Side-by-side timing: contenders run alternately (one call each per round, after one untimed warm-up call each), so
/// that a change in the machine's load falls on all of them alike and their ratio stays meaningful.
/// </summary>
public static class AlternatingTimer
{
    /// <summary>Times every action in <paramref name="rounds"/> alternating rounds.</summary>
    /// <exception cref="ArgumentException">No action, or fewer than one round.</exception>
    public static IReadOnlyList<LatencyStats> Measure(int rounds, IReadOnlyList<Action> actions, CancellationToken cancellation = default)
    {
        if (rounds < 1) throw new ArgumentException($"rounds must be at least 1, got {rounds}");
        if (actions.Count == 0) throw new ArgumentException("nothing to time");
        foreach (var action in actions) action();
        var samples = actions.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < actions.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                long start = Stopwatch.GetTimestamp();
                actions[i]();
                samples[i][r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        return samples.Select(s =>
        {
            Array.Sort(s);
            return new LatencyStats(s[s.Length / 2], s[(s.Length - 1) / 10], s[s.Length - 1 - (s.Length - 1) / 10], s.Length) { Fastest = s[0] };
        }).ToList();
    }
}
