using PruneSharp.Llm.Checkpoints;
using PruneSharp.Llm.Pruning;

namespace PruneSharp.Llm;

/// <summary>Where calibration windows come from: N windows of L tokens drawn with a seed from a text file.</summary>
/// <param name="TextFile">The text, tokenised with the checkpoint's tokenizer.</param>
/// <param name="Samples">Windows (128 in the papers).</param>
/// <param name="SequenceLength">Tokens per window (2048 in the papers; clipped to the model's positions).</param>
/// <param name="Seed">Seeds the window starts.</param>
public sealed record CalibrationText(string TextFile, int Samples = 128, int SequenceLength = 2048, long Seed = 0);

/// <summary>A pruned checkpoint written.</summary>
/// <param name="Output">Its folder.</param>
/// <param name="Model">The model's description.</param>
/// <param name="SequenceLength">Calibration window length used (after clipping to the model's positions).</param>
/// <param name="Report">Per layer and linear layer.</param>
public sealed record CheckpointPruningResult(string Output, string Model, int SequenceLength, LlmPruningReport Report);

/// <summary>
/// <c>prunesharp llm prune</c> as a library call: a Hugging Face checkpoint in, a pruned checkpoint out in the same
/// layout (same files, dtypes and tensor names; pruned weights are zeros in the dense tensors), written to a
/// temporary folder and renamed into place only when complete.
/// </summary>
public static class CheckpointPruning
{
    /// <summary>Prunes the checkpoint in <paramref name="input"/> into <paramref name="output"/>.</summary>
    /// <param name="input">The checkpoint folder.</param>
    /// <param name="output">The folder to write (refused if it exists, unless <paramref name="replaceExisting"/>).</param>
    /// <param name="options">Method, target, allocation.</param>
    /// <param name="calibration">The calibration text and budget.</param>
    /// <param name="replaceExisting">Replace an existing output folder once the new one is complete.</param>
    /// <param name="progress">Hears each finished layer.</param>
    /// <param name="cancellation">Stops between layers and batches; nothing is left at the output.</param>
    public static CheckpointPruningResult Run(string input, string output, LlmPruningOptions options, CalibrationText calibration,
        bool replaceExisting = false, IProgress<LayerProgress>? progress = null, CancellationToken cancellation = default)
    {
        using var source = LanguageModelCheckpoint.Open(input);
        int length = source.ClipLength(calibration.SequenceLength);
        using var windows = TokenWindows.Calibration(source.Tokenize(calibration.TextFile), calibration.Samples, length, calibration.Seed);
        // Tokenising a whole text leaves hundreds of megabytes of garbage on the managed heap; hand it back to the
        // operating system before the layers' tensors need the memory (a layer-by-layer run promises a small peak).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["pruned_by"] = "PruneSharp",
            ["pruning_method"] = options.Method.ToString().ToLowerInvariant(),
            ["sparsity"] = options.Pattern.ToString(),
        };
        using var writer = new CheckpointWriter(source.Checkpoint, output, new CheckpointWriteOptions { ReplaceExisting = replaceExisting, Metadata = metadata });
        var report = LayerwisePruning.Run(source.Model, windows, options with { Storage = source.Checkpoint.WeightDType.ScalarType() },
            site =>
            {
                using var stored = site.CheckpointTensor();
                writer.Replace(site.TensorName, stored);
            },
            progress, cancellation);
        writer.Commit(cancellation: cancellation);
        return new CheckpointPruningResult(writer.Output, source.Model.Description, length, report);
    }

    /// <summary>Perplexity of the checkpoint in <paramref name="folder"/> on a text file, with the papers' protocol.</summary>
    /// <param name="folder">The checkpoint.</param>
    /// <param name="textFile">The text, tokenised as one string with the checkpoint's tokenizer.</param>
    /// <param name="sequenceLength">Tokens per window (clipped to the model's positions).</param>
    /// <param name="batchSize">Windows per forward pass.</param>
    /// <param name="progress">Hears the windows scored so far.</param>
    /// <param name="cancellation">Stops between batches.</param>
    public static LanguageModelPerplexity Perplexity(string folder, string textFile, int sequenceLength, int batchSize = 8,
        IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        using var source = LanguageModelCheckpoint.Open(folder);
        var ids = source.Tokenize(textFile);
        using var windows = TokenWindows.Evaluation(ids, source.ClipLength(sequenceLength));
        return LanguageModelPerplexity.Compute(w => source.Model.Logits(w, cancellation), windows, ids.Length, batchSize, progress, cancellation);
    }
}
