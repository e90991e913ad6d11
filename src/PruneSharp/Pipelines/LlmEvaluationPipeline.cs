using PruneSharp.Llm;
using PruneSharp.Runs;

namespace PruneSharp.Pipelines;

/// <summary>
/// The perplexity of a Hugging Face language-model checkpoint on a text file as data (non-overlapping windows, each
/// scoring its L−1 next-token predictions, the papers' protocol); what <c>llm eval</c>'s flags and a recipe's
/// <c>evaluation</c> section describe.
/// </summary>
/// <param name="Checkpoint">The checkpoint folder (config.json, safetensors weights, tokenizer.json).</param>
/// <param name="Text">The text file scored (tokenised as one string with the checkpoint's tokenizer).</param>
/// <param name="SequenceLength">Tokens per window (clipped to the model's positions).</param>
/// <param name="BatchSize">Windows per forward pass.</param>
public sealed record LlmEvaluationDescription(string Checkpoint, string Text, int SequenceLength = 2048, int BatchSize = 8);

/// <summary>
/// Runs an <see cref="LlmEvaluationDescription"/>: checks it, scores the text with
/// <see cref="CheckpointPruning.Perplexity"/>, and records the run (perplexity, mean negative log-likelihood, tokens,
/// windows and predictions as final metrics).
/// </summary>
public static class LlmEvaluationPipeline
{
    /// <summary>The method a checkpoint evaluation is recorded under.</summary>
    public const string Method = "perplexity";

    /// <summary>Every problem of <paramref name="d"/> that shows without reading the checkpoint, each naming its field as a recipe writes it (<c>evaluation.text</c>, ...).</summary>
    public static IReadOnlyList<PipelineProblem> Validate(LlmEvaluationDescription d)
    {
        var problems = new ProblemList();
        problems.Require("model", Directory.Exists(d.Checkpoint), $"model '{d.Checkpoint}' is not a checkpoint folder (config.json, safetensors weights, tokenizer.json)");
        problems.Require("evaluation.text", File.Exists(d.Text), $"evaluation.text '{d.Text}' is not a text file");
        problems.Require("evaluation.seqlen", d.SequenceLength > 0, $"evaluation.seqlen must be a positive finite number, got {d.SequenceLength}");
        problems.Require("evaluation.batch_size", d.BatchSize > 0, $"evaluation.batch_size must be a positive finite number, got {d.BatchSize}");
        return problems;
    }

    /// <summary>Runs <paramref name="description"/>.</summary>
    /// <param name="description">The evaluation.</param>
    /// <param name="cancellation">Stops between batches.</param>
    /// <param name="recording">Where the run is recorded (null: nowhere).</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names the field.</exception>
    public static LanguageModelPerplexity Run(LlmEvaluationDescription description, CancellationToken cancellation = default, PipelineRecording? recording = null) =>
        PipelineRecording.Record(recording, _ =>
        {
            if (Validate(description) is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems.Select(p => p.ToString())));
            return Measure(description, cancellation);
        }, r => RunMetrics.Outcome(Metrics(r), null));

    /// <summary>Scores the text of <paramref name="d"/> with its checkpoint (checked by the caller).</summary>
    internal static LanguageModelPerplexity Measure(LlmEvaluationDescription d, CancellationToken cancellation) =>
        CheckpointPruning.Perplexity(Path.GetFullPath(d.Checkpoint), Path.GetFullPath(d.Text), d.SequenceLength, d.BatchSize, cancellation: cancellation);

    /// <summary>The final metrics of a measurement: perplexity, mean negative log-likelihood, tokens, windows and predictions (none for null).</summary>
    internal static IEnumerable<KeyValuePair<string, double?>> Metrics(LanguageModelPerplexity? r) => r is null ? [] :
    [
        new(MetricNames.Perplexity, r.Perplexity), new("mean_nll", r.MeanNegativeLogLikelihood), new("tokens", r.Tokens),
        new("windows", r.Windows), new("predictions", r.Predictions),
    ];
}
