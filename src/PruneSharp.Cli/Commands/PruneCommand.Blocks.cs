using System.Globalization;
using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// How <c>prunesharp prune --structured block</c> shows what the library's pipeline removed: every removable residual
/// block with its score, the sizes, and the accuracy or held-out perplexity before and after.
/// </summary>
static partial class PruneCommand
{
    /// <summary>Prints the blocks with their scores and trainable parameters, and the sizes.</summary>
    static void BlockReport(BlockStageResult result, long denseMacs, long prunedMacs, string output, bool json,
        ClassificationMetrics? before, ClassificationMetrics? after, PerplexityResult? perplexityBefore, PerplexityResult? perplexityAfter,
        object? input = null)
    {
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
