using System.Diagnostics;
using System.Text.Json.Serialization;
using PruneSharp.Llm;
using PruneSharp.Llm.Depth;
using PruneSharp.Runs;

namespace PruneSharp.Pipelines;

/// <summary>
/// A depth prune of a Hugging Face language-model checkpoint as data (ShortGPT): the Block Influence of every decoder
/// layer measured on calibration windows drawn from a text file, the lowest <see cref="Remove"/> layers (or exactly
/// <see cref="Layers"/>) taken out, the checkpoint written in the same layout with the later layers renumbered; what
/// <c>llm depth</c>'s flags and a recipe's <c>llm</c> section with <c>method: shortgpt</c> describe.
/// </summary>
/// <param name="Checkpoint">The checkpoint folder (config.json, safetensors weights, tokenizer.json).</param>
/// <param name="Output">The folder written.</param>
/// <param name="Calibration">The text file the calibration windows are drawn from (tokenised with the checkpoint's tokenizer).</param>
/// <param name="Remove">How many layers to remove, those of lowest Block Influence (null: <see cref="Layers"/> names them).</param>
/// <param name="Layers">Exactly these layers (0-based) instead; influence is still measured (null: <see cref="Remove"/> counts them).</param>
/// <param name="Samples">Calibration windows.</param>
/// <param name="SequenceLength">Tokens per window (clipped to the model's positions).</param>
/// <param name="BatchSize">Calibration windows per forward pass.</param>
/// <param name="Seed">Seeds the calibration windows.</param>
/// <param name="Replace">Replace an existing output folder (only once the new one is complete).</param>
public sealed record LlmDepthDescription(string Checkpoint, string Output, string Calibration, int? Remove = null, IReadOnlyList<int>? Layers = null,
    int Samples = 128, int SequenceLength = 2048, int BatchSize = 8, long Seed = 0, bool Replace = false)
{
    /// <summary>
    /// The perplexity measured on the shallower checkpoint just written, in the same run (null: none); its
    /// <see cref="LlmEvaluationDescription.Checkpoint"/> is <see cref="Output"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LlmEvaluationDescription? Evaluation { get; init; }
}

/// <summary>What a depth prune did.</summary>
/// <param name="Description">The prune.</param>
/// <param name="Result">The folder written, the model, the calibration length, every layer's Block Influence and the layers removed.</param>
/// <param name="PeakResidentBytes">The process's peak resident memory at the end (of the prune, before any evaluation).</param>
public sealed record LlmDepthRunResult(LlmDepthDescription Description, DepthPruningResult Result, long PeakResidentBytes)
{
    /// <summary>The written checkpoint's perplexity (null unless <see cref="LlmDepthDescription.Evaluation"/> asked for it).</summary>
    public LanguageModelPerplexity? Perplexity { get; init; }
}

/// <summary>
/// Runs an <see cref="LlmDepthDescription"/>: checks it, removes the layers with <see cref="DepthPruning"/>, measures the
/// written checkpoint's perplexity when asked (<see cref="LlmDepthDescription.Evaluation"/>), and records the run: one
/// step per decoder layer of the input (its <c>block_influence</c>, and <c>removed</c> 1 or 0), the layers removed and
/// kept, the calibration tokens, the time and peak memory, the perplexity, and the files written.
/// </summary>
public static class LlmDepthPipeline
{
    /// <summary>The method name a recipe's <c>llm.method</c> gives for a depth prune.</summary>
    public const string ShortGpt = "shortgpt";

    /// <summary>The method a run of <paramref name="d"/> is recorded under: shortgpt, or given-layers when the layers are named.</summary>
    public static string Method(LlmDepthDescription d) => d.Layers is null ? ShortGpt : "given-layers";

    /// <summary>
    /// Every problem of <paramref name="d"/> that shows without reading the checkpoint, each naming its field as a
    /// recipe writes it (<c>llm.remove</c>, <c>llm.nsamples</c>, ...). Whether the layers exist is checked against the model when it runs.
    /// </summary>
    public static IReadOnlyList<PipelineProblem> Validate(LlmDepthDescription d)
    {
        var problems = new ProblemList();
        void Require(string field, bool ok, string message) => problems.Require(field, ok, message);

        Require("model", Directory.Exists(d.Checkpoint), $"model '{d.Checkpoint}' is not a checkpoint folder (config.json, safetensors weights, tokenizer.json)");
        Require("export.path", d.Output.Length > 0, "export.path is required (the folder the shallower checkpoint is written to)");
        Require("llm.calibration", File.Exists(d.Calibration), $"llm.calibration '{d.Calibration}' is not a text file");
        Require("llm.layers", d.Remove is null != d.Layers is null,
            "give either llm.remove N (the N layers of lowest Block Influence) or llm.layers [I, J, ...] (exactly those layers)");
        Require("llm.remove", d.Remove is not { } n || n >= 1, $"llm.remove must be at least 1, got {d.Remove}");
        Require("llm.layers", d.Layers is not { } l || l.Count > 0 && l.All(i => i >= 0), $"llm.layers must list 0-based layer indices, got [{string.Join(", ", d.Layers ?? [])}]");
        Require("llm.nsamples", d.Samples > 0, $"llm.nsamples must be a positive finite number, got {d.Samples}");
        Require("llm.seqlen", d.SequenceLength > 0, $"llm.seqlen must be a positive finite number, got {d.SequenceLength}");
        Require("llm.batch_size", d.BatchSize > 0, $"llm.batch_size must be a positive finite number, got {d.BatchSize}");
        // The checkpoint evaluated is the one this run writes, so it need not exist yet.
        if (d.Evaluation is { } evaluation) problems.AddRange(LlmEvaluationPipeline.Validate(evaluation).Where(p => p.Field != "model"));
        return problems;
    }

    /// <summary>Runs <paramref name="description"/>.</summary>
    /// <param name="description">The prune.</param>
    /// <param name="progress">Where progress goes (a status line per layer measured).</param>
    /// <param name="cancellation">Stops between batches; nothing is left at the output.</param>
    /// <param name="recording">Where the run is recorded (null: nowhere).</param>
    /// <exception cref="ArgumentException">A setting is invalid, or the layers do not fit the model; the message names the field or the model.</exception>
    public static LlmDepthRunResult Run(LlmDepthDescription description, PipelineProgress? progress = null, CancellationToken cancellation = default,
        PipelineRecording? recording = null) =>
        PipelineRecording.Record(recording, recorder =>
        {
            var result = Execute(description, progress ?? PipelineProgress.None, cancellation);
            var r = result.Result;
            for (int i = 0; i < r.Influence.Count; i++)
                recorder?.Step(i, new Dictionary<string, double> { ["block_influence"] = r.Influence[i], ["removed"] = r.Removed.Contains(i) ? 1 : 0 });
            return result;
        }, Outcome);

    static LlmDepthRunResult Execute(LlmDepthDescription d, PipelineProgress progress, CancellationToken cancellation)
    {
        if (Validate(d) is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems.Select(p => p.ToString())));
        var choice = d.Remove is int count ? LayerChoice.Lowest(count) : LayerChoice.Exactly(d.Layers!);
        var text = new CalibrationText(Path.GetFullPath(d.Calibration), d.Samples, d.SequenceLength, d.Seed);
        var result = DepthPruning.Run(Path.GetFullPath(d.Checkpoint), Path.GetFullPath(d.Output), choice, text, d.BatchSize, d.Replace,
            progress.Status is { } status ? new LayerLines(status) : null, cancellation);
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        LanguageModelPerplexity? perplexity = null;
        if (d.Evaluation is { } evaluation)
        {
            progress.Status?.Report($"perplexity of {result.Output} on {evaluation.Text}");
            perplexity = LlmEvaluationPipeline.Measure(evaluation with { Checkpoint = result.Output }, cancellation);
        }
        return new LlmDepthRunResult(d, result, peak) { Perplexity = perplexity };
    }

    /// <summary>The layers removed and kept, the calibration tokens, time and peak memory, the perplexity if measured, and the files written.</summary>
    static RunOutcome Outcome(LlmDepthRunResult r) => RunMetrics.Outcome([
        .. LlmEvaluationPipeline.Metrics(r.Perplexity),
        new("layers_removed", r.Result.Removed.Count), new("layers_kept", r.Result.Influence.Count - r.Result.Removed.Count),
        new("calibration_tokens", r.Result.CalibrationTokens), new("seconds", r.Result.Seconds), new("peak_resident_bytes", r.PeakResidentBytes),
    ], null, Directory.EnumerateFiles(r.Result.Output).Order(StringComparer.Ordinal).Select(f => ("checkpoint", f)).ToArray());
}
