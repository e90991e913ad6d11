using PruneSharp.Llm.Checkpoints;

namespace PruneSharp.Llm.Depth;

/// <summary>A depth-pruned checkpoint written.</summary>
/// <param name="Output">Its folder.</param>
/// <param name="Model">The input model's description.</param>
/// <param name="SequenceLength">Calibration window length used (after clipping to the model's positions).</param>
/// <param name="CalibrationTokens">Tokens the influence was averaged over.</param>
/// <param name="Influence">Block Influence per layer of the input, index i for layer i.</param>
/// <param name="Removed">The layers removed (input numbering, ascending).</param>
/// <param name="Seconds">Wall time of the whole run.</param>
public sealed record DepthPruningResult(string Output, string Model, int SequenceLength, long CalibrationTokens,
    IReadOnlyList<double> Influence, IReadOnlyList<int> Removed, double Seconds);

/// <summary>
/// <c>prunesharp llm depth</c> as a library call: ShortGPT on a Hugging Face checkpoint. The Block Influence of every
/// decoder layer is measured on calibration windows, the layers with the lowest (or the ones the caller names) are taken out, and the
/// checkpoint is written in the input's layout with the later layers renumbered and <c>config.json</c> updated,
/// to a temporary folder renamed into place only when complete.
/// </summary>
public static class DepthPruning
{
    /// <summary>Removes the <paramref name="remove"/> layers of <paramref name="input"/> into <paramref name="output"/>.</summary>
    /// <param name="input">The checkpoint folder.</param>
    /// <param name="output">The folder to write (refused if it exists, unless <paramref name="replaceExisting"/>).</param>
    /// <param name="remove">Layers to remove: the lowest-influence ones or a given list; at least 1 and fewer than the model has.</param>
    /// <param name="calibration">The calibration text and budget.</param>
    /// <param name="batchSize">Calibration windows per forward pass.</param>
    /// <param name="replaceExisting">Replace an existing output folder once the new one is complete.</param>
    /// <param name="progress">Hears each layer measured.</param>
    /// <param name="cancellation">Stops between batches; nothing is left at the output.</param>
    /// <exception cref="ArgumentException"><paramref name="remove"/> asks for fewer than 1 layer, all of them, or a layer the model lacks (checked before any work).</exception>
    public static DepthPruningResult Run(string input, string output, LayerChoice remove, CalibrationText calibration, int batchSize = 8,
        bool replaceExisting = false, IProgress<LayerProgress>? progress = null, CancellationToken cancellation = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var source = LanguageModelCheckpoint.Open(input);
        remove.Validate(source.Model.LayerCount, input);
        int length = source.ClipLength(calibration.SequenceLength);
        using var windows = TokenWindows.Calibration(source.Tokenize(calibration.TextFile), calibration.Samples, length, calibration.Seed);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["pruned_by"] = "PruneSharp", ["pruning_method"] = "shortgpt" };
        using var writer = new CheckpointWriter(source.Checkpoint, output, new CheckpointWriteOptions { ReplaceExisting = replaceExisting, Metadata = metadata });
        var influence = BlockInfluence.Compute(source.Model, windows, batchSize, progress, cancellation);
        var removed = remove.Select(influence);
        LayerRemoval.Plan(writer, source.Checkpoint, source.Model, removed);
        writer.Commit(cancellation: cancellation);
        return new DepthPruningResult(writer.Output, source.Model.Description, length, windows.numel(), influence, removed, clock.Elapsed.TotalSeconds);
    }
}
