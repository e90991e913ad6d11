using System.CommandLine;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp prune --structured channel|head</c> with unlabeled <c>--data</c> (.npy/.npz arrays, text with a
/// WordPiece tokenizer, a folder of images without classes): the examples are what the structure is traced on, what
/// <c>--calibration</c> refits on, what <c>--method apoz</c> observes and what <c>--recover distill</c> matches the
/// dense model on; nothing is scored against labels.
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

    /// <summary>A channel pruner's result as a pipeline stage reports it.</summary>
    static ChannelStageResult Stage(ChannelPruningResult result) => new(result.Groups, result.Blocked, result.DenseParameters, result.PrunedParameters);

    /// <summary>The batches a data-driven criterion observes: the first 8 × <paramref name="batchSize"/> examples (fewer if there are fewer).</summary>
    static IEnumerable<IReadOnlyList<Tensor>> ObservedBatches(GraphFeed feed, int batchSize)
    {
        for (int start = 0; start < Math.Min(feed.Count, 8 * batchSize); start += batchSize)
            yield return feed.Inputs(Enumerable.Range(start, Math.Min(batchSize, feed.Count - start)).ToArray());
    }
}
