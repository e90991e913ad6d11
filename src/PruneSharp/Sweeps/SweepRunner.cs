using System.Diagnostics;

namespace PruneSharp.Sweeps;

/// <summary>How one cell of a sweep ended.</summary>
public enum CellStatus
{
    /// <summary>Finished in an earlier run of the sweep (or of another sweep over the same recipe); not run again.</summary>
    Skipped,

    /// <summary>Ran and completed.</summary>
    Completed,

    /// <summary>Ran and failed.</summary>
    Failed,
}

/// <summary>What became of one cell.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Error">Why it failed (null otherwise).</param>
/// <param name="Elapsed">How long it ran (zero when skipped).</param>
public sealed record CellResult(SweepCell Cell, CellStatus Status, string? Error, TimeSpan Elapsed);

/// <summary>
/// Runs the cells of a sweep locally, at most <c>jobs</c> at a time: cells whose identity is among the finished
/// ones are skipped, the others run through the given runner (a child <c>prunesharp run</c> per cell, on the command
/// line), and one cell's failure does not stop the others.
/// </summary>
public static class SweepRunner
{
    /// <summary>Runs <paramref name="cells"/>.</summary>
    /// <param name="cells">The cells, in order.</param>
    /// <param name="finished">Identities of cells already finished (<see cref="SweepCell.Identity"/>).</param>
    /// <param name="run">Runs one cell; returns null on success, else the reason it failed.</param>
    /// <param name="jobs">Cells run at once (at least 1).</param>
    /// <param name="done">Receives each cell's result as it ends (from the runner's threads).</param>
    /// <param name="cancellation">Stops starting new cells; running ones get the token.</param>
    /// <returns>The results in the order of <paramref name="cells"/>.</returns>
    public static IReadOnlyList<CellResult> Run(IReadOnlyList<SweepCell> cells, IReadOnlySet<string> finished, Func<SweepCell, CancellationToken, string?> run,
        int jobs = 1, IProgress<CellResult>? done = null, CancellationToken cancellation = default)
    {
        if (jobs < 1) throw new ArgumentException($"--jobs must be at least 1, got {jobs}");
        var results = new CellResult?[cells.Count];
        var pending = new List<int>();
        for (int i = 0; i < cells.Count; i++)
        {
            // A cell given twice (the same resolved recipe twice on the grid) runs once.
            if (finished.Contains(cells[i].Identity) || cells.Take(i).Any(c => c.Identity == cells[i].Identity))
            {
                results[i] = new CellResult(cells[i], CellStatus.Skipped, null, TimeSpan.Zero);
                done?.Report(results[i]!);
            }
            else pending.Add(i);
        }
        Parallel.ForEach(pending, new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancellation }, i =>
        {
            var clock = Stopwatch.StartNew();
            string? error;
            try
            {
                error = run(cells[i], cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                error = e.Message;
            }
            results[i] = new CellResult(cells[i], error is null ? CellStatus.Completed : CellStatus.Failed, error, clock.Elapsed);
            done?.Report(results[i]!);
        });
        return results.Select(r => r!).ToList();
    }
}
