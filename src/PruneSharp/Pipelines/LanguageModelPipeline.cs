using System.Diagnostics;
using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Recovery;
using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>
/// A pipeline whose data is a language model's text file (<see cref="DataKind.Text"/>): the text is tokenised
/// (<see cref="DataDescription.Tokenizer"/>), its end held out for perplexity (<see cref="DataDescription.HeldOut"/>)
/// and the rest cut into training sequences of <see cref="DataDescription.Context"/> tokens (the first
/// <see cref="DataDescription.TrainExamples"/> of them, if given), whose next tokens are the labels. Each stage prunes
/// (unstructured one-shot, iteratively or gradually; channels or heads, scored by weights or, for the data-driven
/// criteria, on 8 batches of 16 training sequences; residual blocks scored on the first 64), is fine-tuned on the
/// training sequences with the masks kept (or, with <c>recovery.kind distill</c>, matched to the dense model's logits
/// on them), and is measured by held-out perplexity.
/// </summary>
static class LanguageModelPipeline
{
    /// <summary>Training sequences per batch that the data-driven channel criteria observe (8 batches).</summary>
    const int ObservedBatchSize = 16;

    /// <summary>The checks of a pipeline on a text file that need neither the text nor the model.</summary>
    internal static void Validate(PipelineDescription d, ProblemList problems)
    {
        var data = d.Data!;
        foreach (var (key, set) in new[] { ("test_examples", data.TestExamples is not null),
            ("normalize", data.Normalize is not null), ("resize", data.Resize is not null), ("crop", data.Crop is not null), ("augment", data.Augment is not null) })
            problems.Require($"data.{key}", !set, $"data.{key} applies to image data, not to a text file (a language model)");
        CheckText(data, problems);
        problems.Require("data.held_out", data.HeldOut is null or (> 0 and < 1), $"data.held_out must be in (0, 1), got {data.HeldOut}");
        problems.Require("export.embed_preprocessing", d.Export is not { EmbedPreprocessing: true }, "export.embed_preprocessing applies to image data, not to a text file (a language model)");
        problems.Require("export.keep_opset", d.Export is not { KeepOpset: true },
            "export.keep_opset applies to image models; a language model is written at the opset it is read at or upgraded to");
        problems.Require("inputs", d.Inputs is null, "inputs describe the example inputs of a model without data; a language model is fed its text's training sequences");
        for (int i = 0; i < d.Stages.Count; i++)
        {
            var s = d.Stages[i];
            string at = $"stages[{i}]";
            // A name that does not parse is Pipeline.Validate's to report, with the nearest valid ones.
            if (s.Structure is null)
                problems.Require($"{at}.method", Pipeline.Parses(() => PruningParts.Criterion(s.Method, d.Seed)) is not (IObservingCriterion or MovementCriterion),
                    $"{at}.method {s.Method} is for image classifiers; a language model (a text file) takes magnitude or random");
            else problems.Require($"{at}.calibration", s.Calibration is null or 0, $"{at}.calibration (least-squares reconstruction) needs image data");
        }
    }

    /// <summary>The checks of <see cref="DataDescription.Tokenizer"/> and <see cref="DataDescription.Context"/> (text files of both kinds).</summary>
    internal static void CheckText(DataDescription data, ProblemList problems)
    {
        if (data.Tokenizer is { } tokenizer)
        {
            int colon = tokenizer.IndexOf(':');
            string form = colon < 0 ? tokenizer : tokenizer[..colon];
            string? file = tokenizer.Equals(DataDescription.DefaultTokenizer, StringComparison.OrdinalIgnoreCase) ? null
                : colon > 0 && form.ToLowerInvariant() is "tiktoken" or "wordpiece" ? tokenizer[(colon + 1)..]
                : colon < 0 && (tokenizer.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || tokenizer.EndsWith(".model", StringComparison.OrdinalIgnoreCase)) ? tokenizer
                : "";
            problems.Check("data.tokenizer", () =>
            {
                if (file == "") throw new ArgumentException($"data.tokenizer '{tokenizer}' is not bytes, tiktoken:FILE, wordpiece:FILE, FILE.json (tokenizer.json) or FILE.model (SentencePiece)");
                if (file is not null && !File.Exists(file)) throw new ArgumentException($"data.tokenizer '{tokenizer}': no such file '{file}'");
            }, new[] { DataDescription.DefaultTokenizer, "tiktoken", "wordpiece" }, file == "" ? form : null);
        }
        problems.Require("data.context", data.Context is null or >= 2, $"data.context must be at least 2 tokens, got {data.Context}");
    }

    /// <summary>Runs <paramref name="d"/> (validated; its data a text file).</summary>
    internal static PipelineResult Run(PipelineDescription d, PipelineProgress progress, Action<int, StageResult>? stageDone, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var data = d.Data!;
        int context = data.Context ?? DataDescription.DefaultContext;
        var corpus = TextCorpus.Load(data.Source, Sources.Tokenizer(data.Tokenizer ?? DataDescription.DefaultTokenizer, "data.tokenizer"), data.HeldOut ?? DataDescription.DefaultHeldOut);
        var sequences = corpus.TrainSequences(context);
        if (sequences.Count == 0) throw new ArgumentException($"the training text of {corpus.TrainTokens.Length} tokens holds no sequence of data.context {context}");
        IDataset train = data.TrainExamples is { } n ? Subset.First(sequences, n) : sequences;
        bool structured = d.Stages.Any(s => s.Structure is not null);
        var model = Sources.LoadModel(d.Model, null, d.Seed, structured, "model");
        string? dense = null;
        try
        {
            // Distillation's teacher: a second, never pruned copy (unstructured stages zero the student's weights in place).
            using var teacher = d.Recovery.Kind == "distill" ? Sources.LoadModel(d.Model, null, d.Seed, structured, "model") : null;
            var distillation = Pipeline.DistillationSettings(d.Recovery);
            if (InputSynthesis.LongestSequence(model.Graph) is { } positions && context > positions)
                throw new ArgumentException($"data.context {context} is longer than the {positions} positions the model holds");
            // The dense model as the pruned one will be written, timed beside it.
            if (d.Latency is not null) OnnxFile.Save(model, dense = Pipeline.DenseCopy());
            var examples = new[] { train.GetBatch(new[] { 0 }).Inputs };
            var fineTune = Pipeline.FineTune(d.Recovery, d.Seed, train.Count);
            PerplexityResult? Perplexity(GraphModule m) => d.Evaluate ? Evaluator.Perplexity(m, corpus.HeldOutTokens, context) : null;
            var perplexity = Perplexity(model);
            void FineTune(GraphModule m)
            {
                using var trainer = new Trainer(m, fineTune) { Progress = progress.For("fine-tune") };
                if (trainer.Fit(train, cancellation).Cancelled) throw new OperationCanceledException();
            }

            var results = new List<StageResult>();
            for (int i = 0; i < d.Stages.Count; i++)
            {
                var s = d.Stages[i];
                string at = $"stages[{i}]";
                var stageClock = Stopwatch.StartNew();
                // The recovery: a fine-tune on the next tokens, or distillation from the dense model on the training sequences (its logits matched).
                var distillations = new List<DistillationResult>();
                void Distill(GraphModule student, MaskSet? masks)
                {
                    masks?.Apply();
                    var distilled = Distillation.Run(teacher!, student, new DatasetInputs(train), distillation, fineTune,
                        masks is null ? null : new ITrainingCallback[] { new MaskedTraining(masks) }, progress.For("distill"), cancellation);
                    if (distilled.Training.Cancelled) throw new OperationCanceledException();
                    distillations.Add(distilled);
                }
                Action<GraphModule>? recover = fineTune.Epochs == 0 ? null : teacher is null ? FineTune : m => Distill(m, null);
                StageResult result;
                if (s.Structure is null)
                {
                    var (stage, keep) = UnstructuredPruning.Stage(s, at, model, d.Seed);
                    Action<MaskSet>? distill = teacher is null || fineTune.Epochs == 0 ? null : masks => Distill(model, masks);
                    var outcome = UnstructuredPruning.Run(model, stage, fineTune, train, null, examples, distill, progress, cancellation);
                    result = new StageResult(s, null, null, outcome.Sparsity, outcome.DenseMacs.DenseMacs, outcome.PrunedMacs.EffectiveMacs,
                        new UnstructuredStageResult(stage.Sparsity, keep, outcome), null, null);
                }
                else if (s.Structure == "block")
                {
                    var scored = new[] { train.GetBatch(Enumerable.Range(0, Math.Min(StructuredPruning.ScoringExamples, train.Count)).ToArray()).Inputs };
                    var (removal, blocks) = StructuredPruning.Blocks(model, s, d.Seed, scored, at);
                    model.Dispose();
                    model = removal.Model;
                    recover?.Invoke(model);
                    result = new StageResult(s, null, null, SparsityReport.Measure(model), removal.DenseMacs, removal.PrunedMacs, null, null, null) { Blocks = blocks };
                }
                else
                {
                    var removal = StructuredPruning.Channels(model, s, d.Seed, examples, recover,
                        observer: importance => StructuredParts.Observer(importance, train, ObservedBatchSize), at: at);
                    model.Dispose();
                    model = removal.Model;
                    recover?.Invoke(model);
                    result = new StageResult(s, null, null, SparsityReport.Measure(model), removal.DenseMacs, removal.PrunedMacs, null,
                        new ChannelStageResult(removal.Groups, removal.Blocked, removal.DenseParameters, removal.PrunedParameters), null);
                }
                var before = perplexity;
                perplexity = Perplexity(model);
                results.Add(result with
                {
                    Elapsed = stageClock.Elapsed, PerplexityBefore = before, PerplexityAfter = perplexity,
                    Distillation = distillations.LastOrDefault(), Distillations = distillations,
                    Trainable = s.Structure is null || recover is null ? null : fineTune.Trainable.Select(model),
                });
                progress.Detail?.Report($"stage {i + 1} took {stageClock.Elapsed.TotalSeconds:F2} s");
                stageDone?.Invoke(i, results[^1]);
            }

            string? output = null;
            if (d.Export is { } export)
            {
                output = Path.GetFullPath(export.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(output)!);
                OnnxFile.Save(model, output);
            }
            return new PipelineResult(d, Preprocessing.None, results, output, clock.Elapsed, Pipeline.Latency(d, output, dense, progress, cancellation));
        }
        finally
        {
            model.Dispose();
            if (dense is not null) File.Delete(dense);
        }
    }
}
