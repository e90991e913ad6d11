using PruneSharp.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Llm;

/// <summary>Perplexity of a language model with the protocol of the retraining-free pruning papers.</summary>
/// <param name="Perplexity"><c>exp(MeanNegativeLogLikelihood)</c>.</param>
/// <param name="MeanNegativeLogLikelihood">Mean negative log-likelihood per prediction, in nats.</param>
/// <param name="Tokens">Tokens of the whole text.</param>
/// <param name="Windows">Whole windows scored (the remainder after the last is dropped).</param>
/// <param name="SequenceLength">Tokens per window.</param>
/// <param name="Predictions">Next-token predictions scored: <c>Windows × (SequenceLength − 1)</c>.</param>
public sealed record LanguageModelPerplexity(double Perplexity, double MeanNegativeLogLikelihood, long Tokens, int Windows, int SequenceLength, long Predictions)
{
    /// <summary>
    /// The protocol: the whole text tokenised as one string (no special tokens), cut into non-overlapping windows of
    /// <c>L</c> tokens, each window scoring its <c>L − 1</c> next-token predictions.
    /// </summary>
    public string Protocol => $"{Windows} non-overlapping windows of {SequenceLength} tokens (of {Tokens}; the remainder dropped), each scoring its {SequenceLength - 1} next-token predictions";

    /// <summary>
    /// Scores evaluation windows (<see cref="TokenWindows.Evaluation"/>) with a model that maps int64 ids
    /// <c>[B, L]</c> to logits <c>[B, L, V]</c>, <paramref name="batchSize"/> windows at a time.
    /// </summary>
    /// <param name="logits">The model.</param>
    /// <param name="windows">int64 <c>[W, L]</c>.</param>
    /// <param name="tokens">Tokens of the whole text, for the report.</param>
    /// <param name="batchSize">Windows per forward pass.</param>
    /// <param name="progress">Receives the number of windows scored so far.</param>
    /// <param name="cancellation">Stops between batches.</param>
    /// <exception cref="ArgumentException">The model's output is not <c>[B, L, V]</c> logits covering every id.</exception>
    public static LanguageModelPerplexity Compute(Func<Tensor, Tensor> logits, Tensor windows, long tokens, int batchSize = 8,
        IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        TorchEngine.EnsureLoaded();
        if (windows.dim() != 2 || windows.shape[1] < 2) throw new ArgumentException($"evaluation windows must be [W, L] with L ≥ 2, got [{string.Join(", ", windows.shape)}]");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        int count = (int)windows.shape[0], length = (int)windows.shape[1];
        double nll = 0;
        using var noGrad = no_grad();
        for (int start = 0; start < count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var batch = windows.narrow(0, start, Math.Min(batchSize, count - start));
            var output = logits(batch);
            if (output.dim() != 3 || output.shape[0] != batch.shape[0] || output.shape[1] != length)
                throw new ArgumentException($"a language model must map [{batch.shape[0]}, {length}] ids to [{batch.shape[0]}, {length}, vocabulary] logits; got [{string.Join(", ", output.shape)}]");
            long vocabulary = output.shape[2];
            var targets = batch[.., 1..];
            if (targets.max().ToInt64() >= vocabulary)
                throw new ArgumentException($"token ids reach {targets.max().ToInt64()} but the model's vocabulary has {vocabulary} entries");
            var predictions = output[.., ..^1].reshape(-1, vocabulary).to_type(ScalarType.Float32);
            nll += nn.functional.cross_entropy(predictions, targets.reshape(-1), reduction: nn.Reduction.Sum).to_type(ScalarType.Float64).ToDouble();
            progress?.Report(Math.Min(start + batchSize, count));
        }
        long scored = (long)count * (length - 1);
        double mean = nll / scored;
        return new LanguageModelPerplexity(Math.Exp(mean), mean, tokens, count, length, scored);
    }
}
