using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>The depth-pruning branch of <c>prunesharp prune</c>: <c>--structured block</c>.</summary>
static partial class PruneCommand
{
    /// <summary>Examples the blocks are scored on: training examples with --data, else random inputs of this many tokens per sequence.</summary>
    const int ScoringExamples = 64, RandomExamples = 8, RandomLength = 8;

    static int Blocks(ParseResult parse, StructuredOptions o, string modelSpec, string method, string? dataSpec,
        int epochs, TrainingFlags flags, string output, bool json, PreprocessingFlags preprocessing, RecoveryFlags recovery)
    {
        if (parse.GetValue(o.Global) || parse.GetValue(o.Steps) != 1 || parse.GetValue(o.Calibration) != 0 || parse.GetValue(o.RoundTo) != 1
            || parse.GetValue(o.Ignore) is { Length: > 0 } || parse.GetValue(o.Approximate) || parse.GetValue(o.IncludeReaders) || parse.GetValue(o.Aggregate) != "sum")
            throw new ArgumentException("--global, --steps, --calibration, --round-to, --ignore, --aggregate, --include-readers and --approximate do not apply to --structured block");
        long seed = parse.GetValue(flags.Seed);
        IBlockImportance importance = method.ToLowerInvariant() switch
        {
            "magnitude" or "norm" => new ResidualNormImportance(),
            "influence" => new BlockInfluenceImportance(),
            "random" => new RandomBlockImportance(seed),
            _ => throw new ArgumentException($"--method '{method}' is not one of norm, influence, random for --structured block"),
        };
        double ratio = parse.GetValue(o.Ratio);
        int? requested = parse.GetValue(o.Blocks);
        if (requested is < 0) throw new ArgumentException($"--blocks must be non-negative, got {requested}");
        if (requested is null && ratio is < 0 or > 1) throw new ArgumentException($"--ratio must be in [0, 1] for --structured block, got {ratio}");

        // Images: scored on training images, accuracy on the test split. Text: scored on training sequences, perplexity
        // on the held-out end of the text.
        bool unlabeled = dataSpec is not null && CliInputs.IsUnlabeled(dataSpec, parse.GetValue(o.Text.Tokenizer)!);
        bool text = dataSpec is not null && !unlabeled && LanguageModelFlags.IsText(dataSpec);
        var (corpus, context, sequences) = text ? o.Text.TrainingText(parse, dataSpec!) : default;
        var images = dataSpec is null || text || unlabeled ? null : CliInputs.LoadData(dataSpec, DataSplit.Train, preprocessing.Sizes(parse));
        if (images is { Count: 0 }) throw new ArgumentException($"--data '{dataSpec}' holds no training example");
        IDataset? train = text ? sequences : images;
        var test = dataSpec is null || text || unlabeled ? null : CliInputs.LoadData(dataSpec, DataSplit.Test, preprocessing.Sizes(parse));
        PerplexityResult? Perplexity(GraphModule m) => corpus is null ? null : Evaluator.Perplexity(m, corpus.HeldOutTokens, context);
        using var model = CliInputs.LoadModel(modelSpec, images, seed, foldShapes: true);
        var fed = preprocessing.Resolve(parse, model, modelSpec);
        PreprocessingFlags.Apply(fed, images, test);
        var examples = unlabeled ? new GraphFeed(model.Graph, CliInputs.LoadExamples(dataSpec!, model, parse.GetValue(o.Text.Tokenizer)!, o.Text.ContextLength(parse), fed), o.Inputs.Options(parse)) : null;
        IReadOnlyList<Tensor> calibration = examples is not null ? examples.Inputs(Enumerable.Range(0, Math.Min(ScoringExamples, examples.Count)).ToArray())
            : train is not null
            ? new[] { train.GetBatch(Enumerable.Range(0, Math.Min(ScoringExamples, train.Count)).ToArray()).Inputs }
            : CliInputs.Examples(model, o.Inputs.Options(parse, RandomExamples, RandomLength), seed);
        int found = ResidualBlocks.Find(model, calibration.Select(t => t[..1]).ToList()).Count;
        if (found == 0) throw new ArgumentException("--structured block: the model has no residual block with an identity skip that can be removed");
        int count = requested ?? (int)Math.Round(ratio * found);
        if (count > found) throw new ArgumentException($"--blocks {count}: the model has only {found} removable residual blocks");

        var before = test is null ? null : Evaluator.Classify(model, test);
        var perplexityBefore = Perplexity(model);
        var result = BlockPruner.Prune(model, calibration, count, importance);
        using var pruned = result.Model;
        if (examples is not null) recovery.Distill(parse, model, pruned, examples, flags.Options(parse, epochs, examples.Count));
        else if (recovery.Distill(parse)) recovery.Train(parse, model, pruned, train!, flags.Options(parse, epochs, train!.Count));
        else Train(pruned, train, flags.Options(parse, epochs, train?.Count ?? 0), epochs);
        var after = test is null ? null : Evaluator.Classify(pruned, test);
        var perplexityAfter = Perplexity(pruned);
        var written = preprocessing.Save(parse, pruned, fed, output);
        var weights = model.Weights();
        BlockReport(result, b => b.Weights.Where(model.IsParameter).Sum(w => weights[w].numel()), output, json, before, after, perplexityBefore, perplexityAfter,
            text ? null : new { fed = PreprocessingFlags.Json(fed), written = PreprocessingFlags.Json(written), distillation = recovery.Json() });
        if (!json && !text)
        {
            PreprocessingFlags.Print(fed);
            recovery.Print(parse);
        }
        return 0;
    }

    /// <summary>Prints the blocks with their scores and trainable parameters (<paramref name="parameters"/>), and the sizes.</summary>
    static void BlockReport(BlockPruningResult result, Func<ResidualBlock, long> parameters, string output, bool json,
        ClassificationMetrics? before, ClassificationMetrics? after, PerplexityResult? perplexityBefore, PerplexityResult? perplexityAfter,
        object? input = null)
    {
        FinishStructured(result.DenseParameters, result.PrunedParameters, result.DenseMacs, result.PrunedMacs, output, before, after, perplexityBefore, perplexityAfter);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                blocks = result.Blocks.Select(b => new { add = b.Block.Add, input = b.Block.Input, nodes = b.Block.Nodes.Count, @params = parameters(b.Block), score = b.Score, removed = b.Removed }),
                dense_params = result.DenseParameters,
                params_after = result.PrunedParameters,
                dense_macs = result.DenseMacs,
                macs_after = result.PrunedMacs,
                accuracy_before = before?.Top1,
                accuracy_after = after?.Top1,
                perplexity_before = perplexityBefore?.Perplexity,
                perplexity_after = perplexityAfter?.Perplexity,
                input,
            }, Table.Json));
            return;
        }
        var rows = result.Blocks.Select(b => (IReadOnlyList<string>)new[]
        {
            b.Block.Add, b.Block.Nodes.Count.ToString(CultureInfo.InvariantCulture), Count(parameters(b.Block)),
            b.Score.ToString("G4", CultureInfo.InvariantCulture), b.Removed ? "removed" : "kept",
        });
        Table.Write(Console.Out, new[] { "residual block (add)", "nodes", "params", "score", "" }, rows);
        Console.WriteLine();
        Console.WriteLine($"saved {output}");
        Console.WriteLine($"residual blocks removed: {result.Blocks.Count(b => b.Removed)} of {result.Blocks.Count} removable");
        PrintSizes(result.DenseParameters, result.PrunedParameters, result.DenseMacs, result.PrunedMacs, before, after);
        if (perplexityBefore is not null && perplexityAfter is not null) Console.WriteLine(PerplexityChange(perplexityBefore, perplexityAfter));
    }
}
