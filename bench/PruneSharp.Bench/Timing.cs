using System.Diagnostics;

namespace PruneSharp.Bench;

/// <summary>Side-by-side timing: runs the contenders alternately, several rounds, and reports medians.</summary>
static class Timing
{
    /// <summary>Median seconds per call of each action, measured in alternating rounds after one warm-up call each.</summary>
    public static double[] Medians(int rounds, params Action[] actions) => Medians(rounds, 1, actions);

    /// <summary>
    /// Median seconds per call of each action, measured in alternating rounds; in each round an action runs once
    /// untimed and then <paramref name="block"/> timed calls in a row (with a block above 1 an action has the machine
    /// to itself for a while, as a deployed model has, and the untimed call absorbs what the previous one left behind).
    /// </summary>
    public static double[] Medians(int rounds, int block, params Action[] actions)
    {
        foreach (var action in actions) action();
        var samples = actions.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < actions.Length; i++)
            {
                if (block > 1) actions[i]();
                for (int k = 0; k < block; k++)
                {
                    var watch = Stopwatch.StartNew();
                    actions[i]();
                    samples[i].Add(watch.Elapsed.TotalSeconds);
                }
            }
        return samples.Select(s => s.Order().ElementAt(s.Count / 2)).ToArray();
    }
}
