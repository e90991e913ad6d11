using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using PruneSharp.Engine;
using PruneSharp.Llm;
using PruneSharp.Llm.Pruning;
using PruneSharp.Metrics;
using PruneSharp.Runs;

namespace PruneSharp.Pipelines;

/// <summary>
/// A retraining-free prune of a Hugging Face language-model checkpoint as data: calibration windows drawn from a
/// text file, the linear layers pruned decoder layer by decoder layer, the checkpoint written in the same layout;
/// what <c>llm prune</c>'s flags and a recipe's <c>llm</c> section describe.
/// </summary>
/// <param name="Checkpoint">The checkpoint folder (config.json, safetensors weights, tokenizer.json).</param>
/// <param name="Output">The folder written.</param>
/// <param name="Calibration">The text file the calibration windows are drawn from (tokenised with the checkpoint's tokenizer).</param>
/// <param name="Method">magnitude, wanda or sparsegpt.</param>
/// <param name="Sparsity">A fraction of zeros (0.5) or N:M along the input axis (2:4).</param>
/// <param name="Samples">Calibration windows.</param>
/// <param name="SequenceLength">Tokens per window (clipped to the model's positions).</param>
/// <param name="Allocation">uniform or owl (outlier-weighted layer sparsities; unstructured only).</param>
/// <param name="OwlLambda">OWL: layer sparsities stay within the target ± λ.</param>
/// <param name="OwlThreshold">OWL: a score above M × the layer's mean is an outlier.</param>
/// <param name="Refine">none or dsnot (training-free mask refinement of magnitude or Wanda masks).</param>
/// <param name="BlockSize">SparseGPT: columns per lazy-update block.</param>
/// <param name="PercDamp">SparseGPT: dampening as a fraction of the mean Hessian diagonal.</param>
/// <param name="BatchSize">Calibration windows per forward pass.</param>
/// <param name="Seed">Seeds the calibration windows.</param>
/// <param name="Replace">Replace an existing output folder (only once the new one is complete).</param>
public sealed record LlmPruningDescription(string Checkpoint, string Output, string Calibration, string Method = "wanda", string Sparsity = "0.5", int Samples = 128,
    int SequenceLength = 2048, string Allocation = "uniform", double OwlLambda = OwlAllocation.DefaultLambda, double OwlThreshold = OwlAllocation.DefaultOutlierThreshold,
    string Refine = "none", int BlockSize = 128, double PercDamp = 0.01, int BatchSize = 4, long Seed = 0, bool Replace = false)
{
    /// <summary>
    /// The perplexity measured on the checkpoint just written, in the same run (null: none); its
    /// <see cref="LlmEvaluationDescription.Checkpoint"/> is <see cref="Output"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LlmEvaluationDescription? Evaluation { get; init; }
}

/// <summary>What a checkpoint prune did.</summary>
/// <param name="Description">The prune.</param>
/// <param name="Result">The folder written, the model, the calibration length and every layer's report.</param>
/// <param name="Pattern">The sparsity pattern, as parsed.</param>
/// <param name="PeakResidentBytes">The process's peak resident memory at the end (of the prune, before any evaluation).</param>
public sealed record LlmPruningRunResult(LlmPruningDescription Description, CheckpointPruningResult Result, SparsityPattern Pattern, long PeakResidentBytes)
{
    /// <summary>The written checkpoint's perplexity (null unless <see cref="LlmPruningDescription.Evaluation"/> asked for it).</summary>
    public LanguageModelPerplexity? Perplexity { get; init; }
}

/// <summary>
/// Runs an <see cref="LlmPruningDescription"/>: checks it, prunes the checkpoint with <see cref="CheckpointPruning"/>
/// (freed memory handed back to the operating system, so that the peak is what a layer-by-layer run promises), measures
/// the written checkpoint's perplexity when asked (<see cref="LlmPruningDescription.Evaluation"/>, as
/// <see cref="LlmEvaluationPipeline"/> does), and records the run: one step per decoder layer (its target sparsity,
/// mean reconstruction error, seconds), the linear layers' sparsity, the calibration tokens, the time and peak memory,
/// the perplexity, and the files written.
/// </summary>
public static class LlmPruningPipeline
{
    static readonly (string Name, LinearPruningMethod Value)[] Methods =
        [("magnitude", LinearPruningMethod.Magnitude), ("wanda", LinearPruningMethod.Wanda), ("sparsegpt", LinearPruningMethod.SparseGpt)];

    /// <summary>The weight-pruning methods, as <c>llm.method</c> and <c>--method</c> name them.</summary>
    public static IReadOnlyList<string> MethodNames { get; } = Methods.Select(m => m.Name).ToArray();

    static readonly (string Name, LayerAllocation Value)[] Allocations = [("uniform", LayerAllocation.Uniform), ("owl", LayerAllocation.Owl)];

    static readonly (string Name, bool Value)[] Refinements = [("none", false), ("dsnot", true)];

    /// <summary>The method a run of <paramref name="d"/> is recorded under: METHOD[+ALLOCATION][+REFINE].</summary>
    public static string Method(LlmPruningDescription d) =>
        d.Method + (d.Allocation is "uniform" ? "" : $"+{d.Allocation}") + (d.Refine is "none" ? "" : $"+{d.Refine}");

    /// <summary>
    /// Every problem of <paramref name="d"/> that shows without reading the checkpoint, each naming its field as a
    /// recipe writes it (<c>llm.method</c>, <c>llm.nsamples</c>, ...), with the nearest valid names for a mistyped one.
    /// </summary>
    public static IReadOnlyList<PipelineProblem> Validate(LlmPruningDescription d)
    {
        var problems = new ProblemList();
        void Require(string field, bool ok, string message) => problems.Require(field, ok, message);
        void Check(string field, Action check, IEnumerable<string> names, string given) => problems.Check(field, check, names, given);
        static string N(double value) => value.ToString(CultureInfo.InvariantCulture);

        Require("model", Directory.Exists(d.Checkpoint), $"model '{d.Checkpoint}' is not a checkpoint folder (config.json, safetensors weights, tokenizer.json)");
        Require("export.path", d.Output.Length > 0, "export.path is required (the folder the pruned checkpoint is written to)");
        Require("llm.calibration", File.Exists(d.Calibration), $"llm.calibration '{d.Calibration}' is not a text file");
        Check("llm.method", () => Choice(d.Method, "llm.method", Methods), Methods.Select(m => m.Name), d.Method);
        Check("llm.sparsity", () => Pattern(d.Sparsity), [], d.Sparsity);
        Check("llm.allocation", () => Choice(d.Allocation, "llm.allocation", Allocations), Allocations.Select(a => a.Name), d.Allocation);
        Check("llm.refine", () => Choice(d.Refine, "llm.refine", Refinements), Refinements.Select(r => r.Name), d.Refine);
        if (d.Allocation.Equals("owl", StringComparison.OrdinalIgnoreCase) && IsNM(d.Sparsity))
            problems.Add(new PipelineProblem("llm.allocation", "llm.allocation owl spreads an unstructured sparsity over layers; N:M patterns are the same in every layer", []));
        Require("llm.nsamples", d.Samples > 0, $"llm.nsamples must be a positive finite number, got {d.Samples}");
        Require("llm.seqlen", d.SequenceLength > 0, $"llm.seqlen must be a positive finite number, got {d.SequenceLength}");
        Require("llm.batch_size", d.BatchSize > 0, $"llm.batch_size must be a positive finite number, got {d.BatchSize}");
        Require("llm.blocksize", d.BlockSize > 0, $"llm.blocksize must be a positive finite number, got {d.BlockSize}");
        Require("llm.percdamp", double.IsFinite(d.PercDamp) && d.PercDamp > 0, $"llm.percdamp must be a positive finite number, got {N(d.PercDamp)}");
        Require("llm.owl_lambda", double.IsFinite(d.OwlLambda) && d.OwlLambda >= 0, $"llm.owl_lambda must be a non-negative finite number, got {N(d.OwlLambda)}");
        Require("llm.owl_m", double.IsFinite(d.OwlThreshold) && d.OwlThreshold > 0, $"llm.owl_m must be a positive finite number, got {N(d.OwlThreshold)}");
        // The checkpoint evaluated is the one this run writes, so it need not exist yet.
        if (d.Evaluation is { } evaluation) problems.AddRange(LlmEvaluationPipeline.Validate(evaluation).Where(p => p.Field != "model"));
        return problems;
    }

    /// <summary>Runs <paramref name="description"/>.</summary>
    /// <param name="description">The prune.</param>
    /// <param name="progress">Where progress goes (a status line per finished layer).</param>
    /// <param name="cancellation">Stops between layers and batches; nothing is left at the output.</param>
    /// <param name="recording">Where the run is recorded (null: nowhere).</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names the field.</exception>
    public static LlmPruningRunResult Run(LlmPruningDescription description, PipelineProgress? progress = null, CancellationToken cancellation = default,
        PipelineRecording? recording = null) =>
        PipelineRecording.Record(recording, recorder =>
        {
            var result = Execute(description, progress ?? PipelineProgress.None, cancellation);
            foreach (var layer in result.Result.Report.Layers)
                recorder?.Step(layer.Layer, new Dictionary<string, double>
                {
                    ["layer_target_sparsity"] = layer.TargetSparsity,
                    ["reconstruction_error"] = layer.Linears.Count == 0 ? double.NaN : layer.Linears.Average(l => l.ReconstructionError),
                    ["seconds"] = layer.Seconds,
                });
            return result;
        }, Outcome);

    static LlmPruningRunResult Execute(LlmPruningDescription d, PipelineProgress progress, CancellationToken cancellation)
    {
        if (Validate(d) is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems.Select(p => p.ToString())));
        var pattern = Pattern(d.Sparsity);
        var options = new LlmPruningOptions
        {
            Method = Choice(d.Method, "llm.method", Methods),
            Pattern = pattern,
            Allocation = Choice(d.Allocation, "llm.allocation", Allocations),
            OwlLambda = d.OwlLambda,
            OwlThreshold = d.OwlThreshold,
            Refine = Choice(d.Refine, "llm.refine", Refinements) ? new DsnotOptions() : null,
            SparseGpt = new SparseGptOptions { BlockSize = d.BlockSize, PercDamp = d.PercDamp },
            BatchSize = d.BatchSize,
        };
        var text = new CalibrationText(Path.GetFullPath(d.Calibration), d.Samples, d.SequenceLength, d.Seed);
        // Layer by layer the peak is what the run promises, not the speed of page faults: freed blocks go back.
        TorchEngine.ReleaseFreedMemory();
        var result = CheckpointPruning.Run(Path.GetFullPath(d.Checkpoint), Path.GetFullPath(d.Output), options, text, d.Replace,
            progress.Status is { } status ? new LayerLines(status) : null, cancellation);
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        LanguageModelPerplexity? perplexity = null;
        if (d.Evaluation is { } evaluation)
        {
            progress.Status?.Report($"perplexity of {result.Output} on {evaluation.Text}");
            perplexity = LlmEvaluationPipeline.Measure(evaluation with { Checkpoint = result.Output }, cancellation);
        }
        return new LlmPruningRunResult(d, result, pattern, peak) { Perplexity = perplexity };
    }

    /// <summary>The linear layers' sparsity and sizes, the calibration tokens, time and peak memory, the perplexity if measured, and the files written.</summary>
    static RunOutcome Outcome(LlmPruningRunResult r)
    {
        var report = r.Result.Report;
        var linears = report.Layers.SelectMany(l => l.Linears).Select(l => new ParameterSparsity(
            $"layers.{l.Layer}.{l.Name}", [l.OutFeatures, l.InFeatures], l.OutFeatures * l.InFeatures,
            (long)Math.Round(l.OutFeatures * l.InFeatures * (1 - l.Sparsity)))).ToList();
        return RunMetrics.Outcome([
            .. RunMetrics.Size(linears), new(MetricNames.Sparsity, report.Sparsity), .. LlmEvaluationPipeline.Metrics(r.Perplexity),
            new("calibration_tokens", report.CalibrationTokens), new("seconds", report.Seconds), new("peak_resident_bytes", r.PeakResidentBytes),
        ], linears, Directory.EnumerateFiles(r.Result.Output).Order(StringComparer.Ordinal).Select(f => ("checkpoint", f)).ToArray());
    }

    static T Choice<T>(string value, string field, (string Name, T Value)[] choices)
    {
        foreach (var (name, v) in choices)
            if (string.Equals(name, value, StringComparison.OrdinalIgnoreCase)) return v;
        throw new ArgumentException($"{field} must be one of {string.Join(", ", choices.Select(c => c.Name))}; got '{value}'");
    }

    static SparsityPattern Pattern(string text)
    {
        try
        {
            return SparsityPattern.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"llm.sparsity: {e.Message}", e);
        }
    }

    static bool IsNM(string text)
    {
        try
        {
            return SparsityPattern.Parse(text).IsNM;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
