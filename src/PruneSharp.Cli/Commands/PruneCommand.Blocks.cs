using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Pipelines;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// The depth-pruning branch of <c>prunesharp prune</c> (<c>--structured block</c>) on the data the pipeline does not
/// read yet: a text file (scored on training sequences, perplexity on the held-out end) or unlabeled inputs (scored on
/// them, recovered by distillation). The blocks are chosen and removed by the library's <see cref="StructuredPruning"/>.
/// </summary>
static partial class PruneCommand
{
    static int Blocks(ParseResult parse, StructuredOptions o, StageDescription stage, string modelSpec, string dataSpec, bool unlabeled,
        int epochs, TrainingFlags flags, string output, bool json, PreprocessingFlags preprocessing, RecoveryFlags recovery)
    {
        long seed = parse.GetValue(flags.Seed);
        var (corpus, context, sequences) = unlabeled ? default : o.Text.TrainingText(parse, dataSpec);
        using var model = CliInputs.LoadModel(modelSpec, null, seed, foldShapes: true);
        var fed = preprocessing.Resolve(parse, model, modelSpec);
        var examples = unlabeled ? new GraphFeed(model.Graph, CliInputs.LoadExamples(dataSpec, model, parse.GetValue(o.Text.Tokenizer)!, o.Text.ContextLength(parse), fed), o.Inputs.Options(parse)) : null;
        IReadOnlyList<Tensor> calibration = examples is not null
            ? examples.Inputs(Enumerable.Range(0, Math.Min(StructuredPruning.ScoringExamples, examples.Count)).ToArray())
            : new[] { sequences!.GetBatch(Enumerable.Range(0, Math.Min(StructuredPruning.ScoringExamples, sequences.Count)).ToArray()).Inputs };
        PerplexityResult? Perplexity(GraphModule m) => corpus is null ? null : Evaluator.Perplexity(m, corpus.HeldOutTokens, context);

        var perplexityBefore = Perplexity(model);
        var (result, blocks) = StructuredPruning.Blocks(model, stage, seed, calibration);
        using var pruned = result.Model;
        if (examples is not null) recovery.Distill(parse, model, pruned, examples, flags.Options(parse, epochs, examples.Count));
        else Train(pruned, sequences, flags.Options(parse, epochs, sequences!.Count), epochs);
        var perplexityAfter = Perplexity(pruned);
        var written = preprocessing.Save(parse, pruned, fed, output);
        BlockReport(blocks, result.DenseMacs, result.PrunedMacs, output, json, null, null, perplexityBefore, perplexityAfter,
            unlabeled ? new { fed = PreprocessingFlags.Json(fed), written = PreprocessingFlags.Json(written), distillation = recovery.Json() } : null);
        if (!json && unlabeled)
        {
            PreprocessingFlags.Print(fed);
            recovery.Print(parse);
        }
        return 0;
    }

    /// <summary>Prints the blocks with their scores and trainable parameters, and the sizes.</summary>
    static void BlockReport(BlockStageResult result, long denseMacs, long prunedMacs, string output, bool json,
        ClassificationMetrics? before, ClassificationMetrics? after, PerplexityResult? perplexityBefore, PerplexityResult? perplexityAfter,
        object? input = null)
    {
        FinishStructured(result.DenseParameters, result.PrunedParameters, denseMacs, prunedMacs, output, before, after, perplexityBefore, perplexityAfter);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                blocks = result.Blocks.Select((b, i) => new { add = b.Block.Add, input = b.Block.Input, nodes = b.Block.Nodes.Count, @params = result.BlockParameters[i], score = b.Score, removed = b.Removed }),
                dense_params = result.DenseParameters,
                params_after = result.PrunedParameters,
                dense_macs = denseMacs,
                macs_after = prunedMacs,
                accuracy_before = before?.Top1,
                accuracy_after = after?.Top1,
                perplexity_before = perplexityBefore?.Perplexity,
                perplexity_after = perplexityAfter?.Perplexity,
                input,
            }, Table.Json));
            return;
        }
        var rows = result.Blocks.Select((b, i) => (IReadOnlyList<string>)new[]
        {
            b.Block.Add, b.Block.Nodes.Count.ToString(CultureInfo.InvariantCulture), Count(result.BlockParameters[i]),
            b.Score.ToString("G4", CultureInfo.InvariantCulture), b.Removed ? "removed" : "kept",
        });
        Table.Write(Console.Out, new[] { "residual block (add)", "nodes", "params", "score", "" }, rows);
        Console.WriteLine();
        Console.WriteLine($"saved {output}");
        Console.WriteLine($"residual blocks removed: {result.Blocks.Count(b => b.Removed)} of {result.Blocks.Count} removable");
        PrintSizes(result.DenseParameters, result.PrunedParameters, denseMacs, prunedMacs, before, after);
        if (perplexityBefore is not null && perplexityAfter is not null) Console.WriteLine(PerplexityChange(perplexityBefore, perplexityAfter));
    }
}
