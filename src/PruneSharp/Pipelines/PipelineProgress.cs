using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>Where a pipeline reports what it is doing: a progress sink per training run (by its label), and status lines.</summary>
/// <param name="Training">The sink for a training run labelled "fine-tune", "movement", "distill", ...; null: none.</param>
/// <param name="Status">Receives one line per notable step; null: none.</param>
/// <param name="Detail">Receives timings and other detail lines (what <c>--verbose</c> shows); null: none.</param>
/// <param name="Warning">Receives warnings (e.g. a dense model near chance accuracy: wrong preprocessing?); null: none.</param>
public sealed record PipelineProgress(Func<string, IProgress<TrainingProgress>?>? Training = null, IProgress<string>? Status = null, IProgress<string>? Detail = null,
    IProgress<string>? Warning = null)
{
    /// <summary>Reports nothing.</summary>
    public static PipelineProgress None { get; } = new();

    internal IProgress<TrainingProgress>? For(string label) => Training?.Invoke(label);
}
