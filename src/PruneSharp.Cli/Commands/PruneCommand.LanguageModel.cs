using System.CommandLine;
using System.Text.Json;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Pruning.Structured;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// Channel and head pruning of a language model (<c>--data</c> names a text file): scored by weights or, for the
/// data-driven criteria (Taylor as LLM-Pruner scores, Fisher, APoZ), on 8 batches of 16 training sequences;
/// fine-tuned on the training part of the text, and measured by held-out perplexity before and after.
/// </summary>
static partial class PruneCommand
{
    static int StructuredLanguageModel(ParseResult parse, StructuredOptions o, StageDescription stage, string modelSpec, string dataSpec, int epochs,
        TrainingFlags flags, string output, bool json)
    {
        if (stage.Calibration is not null) throw new ArgumentException("--calibration (least-squares reconstruction) needs image data");
        var (corpus, context, train) = o.Text.TrainingText(parse, dataSpec);
        using var model = CliInputs.LoadModel(modelSpec, null, parse.GetValue(flags.Seed), foldShapes: true);
        var sample = train.GetBatch(new[] { 0 }).Inputs;
        PerplexityResult Measure(GraphModule m) => Evaluator.Perplexity(m, corpus.HeldOutTokens, context);
        var before = Measure(model);
        var fineTune = flags.Options(parse, epochs, train.Count);
        void FineTune(GraphModule m) => Train(m, train, fineTune, epochs);

        var shown = StructuredPruning.Channels(model, stage, parse.GetValue(flags.Seed), new[] { sample }, FineTune,
            observer: importance => StructuredParts.Observer(importance, train, batchSize: 16));
        using var pruned = shown.Model;
        FineTune(pruned);
        var after = Measure(pruned);
        OnnxFile.Save(pruned, output);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                groups = shown.Groups.Select(GroupJson),
                dense_params = shown.DenseParameters,
                params_after = shown.PrunedParameters,
                dense_macs = shown.DenseMacs,
                macs_after = shown.PrunedMacs,
                perplexity_before = before.Perplexity,
                perplexity_after = after.Perplexity,
                protocol = after.Protocol,
            }, Table.Json));
            return 0;
        }
        StructuredReport(Stage(shown), shown.DenseMacs, shown.PrunedMacs, StructuredPruning.Options(stage).Unit, output, json: false, null, null);
        Console.WriteLine(PerplexityChange(before, after));
        return 0;
    }

    /// <summary>
    /// Unstructured (mask) pruning of a language model: prune in <paramref name="rounds"/> rounds, each followed by
    /// fine-tuning on the training part of the text with the masks kept (0 rounds: the gradual schedule, pruning
    /// during the fine-tune), and report held-out perplexity.
    /// </summary>
    static int UnstructuredLanguageModel(ParseResult parse, LanguageModelFlags text, string modelSpec, string dataSpec, Func<GraphModule, Pruner> makePruner,
        double sparsity, int rounds, int epochs, TrainingFlags flags, string output, bool json)
    {
        var (corpus, context, train) = text.TrainingText(parse, dataSpec);
        using var model = CliInputs.LoadModel(modelSpec, null, parse.GetValue(flags.Seed));
        var sample = train.GetBatch(new[] { 0 }).Inputs;
        var dense = MacCounter.Measure(model, new[] { sample });
        var before = Evaluator.Perplexity(model, corpus.HeldOutTokens, context);
        var pruner = makePruner(model);
        var prunable = pruner.Scope.Select(pruner.Masks).ToHashSet();
        var fineTune = flags.Options(parse, epochs, train.Count);
        if (rounds == 0) TrainCommand.WithCtrlC(token =>
        {
            UnstructuredPruning.Gradual(model, pruner, sparsity, train, fineTune, progress: Progress, cancellation: token);
            return 0;
        });
        else TrainCommand.WithCtrlC(token => PruneFineTune.Run(pruner, new PruneFineTuneOptions { Sparsity = sparsity, Rounds = rounds, FineTune = fineTune },
            train, null, new ProgressBar("fine-tune"), token));
        pruner.Masks.MakePermanent();
        var after = Evaluator.Perplexity(model, corpus.HeldOutTokens, context);
        OnnxFile.Save(model, output);
        Report(output, json, SparsityReport.Measure(model), prunable, dense,
            MacCounter.Measure(model, new[] { sample }), null, null, before, after);
        return 0;
    }
}
