using System.Globalization;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>A one-line training progress bar on stderr (one line per epoch when stderr is not a terminal).</summary>
sealed class ProgressBar(string label) : IProgress<TrainingProgress>
{
    const int Width = 30;

    public void Report(TrainingProgress p)
    {
        bool epochEnd = p.Position.Batch >= p.BatchesPerEpoch;
        if (epochEnd) RunRecording.Epoch(label, p);
        if (Verbosity.IsQuiet) return;
        int epoch = p.Position.Epoch + 1;
        double fraction = Math.Min(1, (double)p.Position.Batch / p.BatchesPerEpoch);
        int filled = (int)Math.Round(fraction * Width);
        string accuracy = p.Accuracy is { } a ? $" acc {(100 * a).ToString("F1", CultureInfo.InvariantCulture)}%" : "";
        string line = $"{label} epoch {epoch}/{p.Epochs} [{new string('#', filled)}{new string('.', Width - filled)}] " +
            $"loss {p.Loss.ToString("F4", CultureInfo.InvariantCulture)}{accuracy} {p.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture)}/s";
        if (Console.IsErrorRedirected)
        {
            if (epochEnd) Console.Error.WriteLine(line);
        }
        else Console.Error.Write("\r" + line + (epochEnd ? "\n" : ""));
    }

    /// <summary>Writes a status line to stderr.</summary>
    public static void Status(string message) => Verbosity.Status(message);
}
