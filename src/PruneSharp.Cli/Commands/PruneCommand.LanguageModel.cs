using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Structured;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// How <c>prunesharp prune --structured channel|head</c> shows what the library's pipeline did to a language model
/// (<c>--data</c> a text file): the groups, the sizes, the held-out perplexity before and after, and what distillation did.
/// </summary>
static partial class PruneCommand
{
    static void LanguageModelReport(StageResult done, PruningUnit unit, string output, bool json, PerplexityResult before, PerplexityResult after, object? distillation)
    {
        var channels = done.Channels!;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                groups = channels.Groups.Select(GroupJson),
                dense_params = channels.DenseParameters,
                params_after = channels.PrunedParameters,
                dense_macs = done.DenseMacs,
                macs_after = done.Macs,
                perplexity_before = before.Perplexity,
                perplexity_after = after.Perplexity,
                protocol = after.Protocol,
                distillation,
            }, Table.Json));
            return;
        }
        StructuredReport(channels, done.DenseMacs, done.Macs, unit, output, json: false, null, null);
        Console.WriteLine(PerplexityChange(before, after));
    }
}
