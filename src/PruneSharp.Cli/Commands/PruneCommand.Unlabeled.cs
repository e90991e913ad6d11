using System.CommandLine;
using System.Globalization;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp prune</c> with unlabeled <c>--data</c> (.npy/.npz arrays, text with a WordPiece tokenizer, a folder
/// of images without classes). With <c>--structured channel|head</c> the examples are what the structure is traced on,
/// what <c>--calibration</c> refits on, what <c>--method apoz</c> observes and what <c>--recover distill</c> matches
/// the dense model on; unstructured and N:M pruning (run by the library's <see cref="UnlabeledPruning"/>) observe them
/// with wanda, apoz or entropy and distil on them. Nothing is scored against labels.
/// </summary>
static partial class PruneCommand
{
    static int StructuredUnlabeled(ParseResult parse, StructuredOptions o, StageDescription stage, string modelSpec, string dataSpec, int epochs,
        TrainingFlags flags, string output, bool json, PreprocessingFlags preprocessing, RecoveryFlags recovery)
    {
        long seed = parse.GetValue(flags.Seed);
        if (StructuredPruning.Importance(stage, seed) is TaylorImportance or FisherImportance)
            throw new ArgumentException($"--method {stage.Method} scores with the loss's gradients, which need labels; --data '{dataSpec}' holds unlabeled inputs: use apoz, l1, l2 or fpgm");
        using var model = CliInputs.LoadModel(modelSpec, null, seed, foldShapes: true);
        var fed = preprocessing.Resolve(parse, model, modelSpec);
        var examples = CliInputs.LoadExamples(dataSpec, model, parse.GetValue(o.Text.Tokenizer)!, o.Text.ContextLength(parse), fed);
        var feed = new GraphFeed(model.Graph, examples, o.Inputs.Options(parse), seed);
        var sample = feed.Inputs(new[] { 0 });
        var calibration = stage.Calibration is { } count ? feed.Inputs(Enumerable.Range(0, Math.Min(count, feed.Count)).ToArray()) : null;

        var fineTune = flags.Options(parse, epochs, feed.Count);
        // Distillation with the dense model (never modified by the pruner) as the teacher, the only recovery without labels.
        void Recover(GraphModule m) => recovery.Distill(parse, model, m, feed, fineTune);

        var result = StructuredPruning.Channels(model, stage, seed, sample, Recover, calibration,
            importance => importance is ApozImportance apoz ? g => apoz.Observe(g, ObservedBatches(feed, 64)) : null);
        using var pruned = result.Model;
        Recover(pruned);
        var written = preprocessing.Save(parse, pruned, fed, output);
        string described = $"{feed.Count} unlabeled examples of {string.Join(", ", examples.Names)} from {dataSpec}";
        StructuredReport(Stage(result), result.DenseMacs, result.PrunedMacs, StructuredPruning.Options(stage).Unit, output, json, null, null,
            new { data = described, fed = PreprocessingFlags.Json(fed), written = PreprocessingFlags.Json(written), distillation = recovery.Json() });
        if (!json)
        {
            Console.WriteLine($"data: {described}");
            recovery.Print(parse);
        }
        return 0;
    }

    /// <summary>Unstructured (or N:M, block, kernel) pruning of <paramref name="stage"/> on unlabeled data, recovered by distillation.</summary>
    static int UnstructuredUnlabeled(ParseResult parse, StructuredOptions o, StageDescription stage, string modelSpec, string dataSpec, int epochs,
        TrainingFlags flags, string output, bool json, PreprocessingFlags preprocessing, RecoveryFlags recovery, string edgeChoice)
    {
        long seed = parse.GetValue(flags.Seed);
        using var model = CliInputs.LoadModel(modelSpec, null, seed);
        // The teacher: a second, never pruned copy (unstructured pruning zeroes the student's weights in place).
        using var teacher = CliInputs.LoadModel(modelSpec, null, seed);
        var fed = preprocessing.Resolve(parse, model, modelSpec);
        var examples = CliInputs.LoadExamples(dataSpec, model, parse.GetValue(o.Text.Tokenizer)!, o.Text.ContextLength(parse), fed);
        var feed = new GraphFeed(model.Graph, examples, o.Inputs.Options(parse), seed);
        var fineTune = flags.Options(parse, epochs, feed.Count);
        var result = FlagNames.Translate(() =>
        {
            var (unstructured, _) = UnstructuredPruning.Stage(stage, "stages[0]", model, seed);
            return TrainCommand.WithCtrlC(token => UnlabeledPruning.Run(model, teacher, unstructured, feed, fineTune, recovery.Options(parse), Progress, token));
        });
        if (result.Distillation is { } distilled) recovery.Add(distilled);
        var written = preprocessing.Save(parse, model, fed, output);
        var outcome = result.Pruning;
        var report = new UnlabeledReport($"{feed.Count} unlabeled examples of {string.Join(", ", examples.Names)} from {dataSpec}", result);
        var choices = new Choices(fed, written, edgeChoice, outcome.LeftOut, outcome.Skipped, outcome.Trainable) 
        {
            Recovery = recovery.Json(), Unlabeled = report, TakesPixels = model.Graph.Inputs.Any(v => v.ElementType is DataType.Float or DataType.Float16 or DataType.Double),
        };
        Report(output, json, outcome.Sparsity, outcome.Prunable, outcome.DenseMacs, outcome.PrunedMacs, null, null, choices: choices);
        if (!json) recovery.Print(parse);
        return 0;
    }

    /// <summary>What an unstructured prune on unlabeled data fed, and how closely the pruned model follows the dense one.</summary>
    /// <param name="Data">The examples, in words.</param>
    /// <param name="Outcome">The library's outcome.</param>
    sealed record UnlabeledReport(string Data, UnlabeledOutcome Outcome)
    {
        public object Json() => new
        {
            examples = Outcome.FidelityExamples,
            outputs = Outcome.FidelityBefore.Select((b, k) => new
            {
                name = b.Name,
                kind = b.Kind.ToString().ToLowerInvariant(),
                cosine_before = b.MeanCosine,
                cosine_after = Outcome.FidelityAfter?[k].MeanCosine,
                min_cosine_before = b.MinCosine,
                min_cosine_after = Outcome.FidelityAfter?[k].MinCosine,
                relative_error_before = b.RelativeError,
                relative_error_after = Outcome.FidelityAfter?[k].RelativeError,
            }),
        };

        public void Print()
        {
            Console.WriteLine($"data: {Data}");
            string Cosine(double c) => c.ToString("F4", CultureInfo.InvariantCulture);
            foreach (var (b, k) in Outcome.FidelityBefore.Select((b, k) => (b, k)))
                Console.WriteLine($"fidelity of {b.Name} to the dense model (mean cosine, first {Outcome.FidelityExamples} inputs, those distilled on): after pruning {Cosine(b.MeanCosine)}" +
                    (Outcome.FidelityAfter is { } after ? $", after distillation {Cosine(after[k].MeanCosine)}" : ""));
        }
    }

    /// <summary>A channel pruner's result as a pipeline stage reports it.</summary>
    static ChannelStageResult Stage(ChannelPruningResult result) => new(result.Groups, result.Blocked, result.DenseParameters, result.PrunedParameters);

    /// <summary>The batches a data-driven criterion observes: the first 8 × <paramref name="batchSize"/> examples (fewer if there are fewer).</summary>
    static IEnumerable<IReadOnlyList<Tensor>> ObservedBatches(GraphFeed feed, int batchSize)
    {
        for (int start = 0; start < Math.Min(feed.Count, 8 * batchSize); start += batchSize)
            yield return feed.Inputs(Enumerable.Range(start, Math.Min(batchSize, feed.Count - start)).ToArray());
    }
}
