using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Structured;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>The channel- and head-pruning branch of <c>prunesharp prune</c> (block pruning: PruneCommand.Blocks.cs).</summary>
static partial class PruneCommand
{
    /// <summary>Options that only structured pruning reads.</summary>
    sealed class StructuredOptions
    {
        public Option<string?> Kind { get; } = new("--structured") { Description = "channel: remove whole channels/neurons (coupled across the graph); head: remove whole attention heads; block: remove whole residual blocks (depth). Saves a smaller dense model." };
        public Option<double> Ratio { get; } = new("--ratio") { Description = "Fraction to remove: of the channels or heads (per group, or of all with --global), or of the removable residual blocks.", DefaultValueFactory = _ => 0.5 };
        public Option<int?> Blocks { get; } = new("--blocks") { Description = "--structured block: number of residual blocks to remove (instead of --ratio)." };
        public Option<bool> Global { get; } = new("--global") { Description = "Rank channels of all groups together (scores normalised by each group's mean; bn-scale compares |γ| as they are, network slimming's one threshold)." };
        public Option<int> RoundTo { get; } = new("--round-to") { Description = "Keep a multiple of this many channels per group.", DefaultValueFactory = _ => 1 };
        public Option<double> MaxRatio { get; } = new("--max-ratio") { Description = "Never remove more than this fraction of one group.", DefaultValueFactory = _ => 0.9 };
        public Option<string[]> Ignore { get; } = new("--ignore") { Description = "Nodes or weights whose output channels are kept (e.g. fc).", AllowMultipleArgumentsPerToken = true };
        public Option<int> Steps { get; } = new("--steps") { Description = "Prune in this many steps (fine-tuning between them with --finetune-epochs).", DefaultValueFactory = _ => 1 };
        public Option<string> Aggregate { get; } = new("--aggregate") { Description = "l1/l2: how the scores of a group's weights combine: sum, mean, max or first.", DefaultValueFactory = _ => "sum" };
        public Option<bool> IncludeReaders { get; } = new("--include-readers") { Description = "l1/l2: also count the input slices of the layers that read a channel (the whole group's norm, as DepGraph); always on for heads." };
        public Option<bool> Approximate { get; } = new("--approximate") { Description = "Also prune channels that a LayerNorm normalises over (a transformer's hidden size, ConvNeXt's channels): the channels that stay are renormalised, so fine-tune afterwards." };
        public Option<double?> FfnRatio { get; } = new("--ffn-ratio") { Description = "--structured head: also remove this fraction of every exact channel group (a transformer's FFN width) in the same run." };
        public Option<double?> HiddenRatio { get; } = new("--hidden-ratio") { Description = "Also remove this fraction of the hidden size (the channels a LayerNorm normalises, up to the outputs, which narrow); needs --approximate. Other groups keep --ratio (and --ffn-ratio)." };
        public Option<int> Calibration { get; } = new("--calibration") { Description = "Refit the layers that lost inputs by least squares on this many training examples (needs --data; 0: off).", DefaultValueFactory = _ => 0 };

        public LanguageModelFlags Text { get; } = new();

        /// <summary>How example inputs are made without data (every kind of pruning reads them).</summary>
        public InputFlags Inputs { get; } = new();

        public IEnumerable<Option> All => new Option[] { Kind, Ratio, Blocks, Global, RoundTo, MaxRatio, Ignore, Steps, Aggregate, IncludeReaders, Approximate, FfnRatio, HiddenRatio, Calibration, Text.Context, Text.HeldOut, Text.Tokenizer, Inputs.Shape, Inputs.Input };
    }

    /// <summary>
    /// <c>--structured channel|head|block</c>: the flags become one structured stage of a pipeline description, which
    /// the library's <see cref="Pipeline"/> runs on whatever the data holds (images or none, a language model's text,
    /// unlabeled inputs); the verb renders what comes back.
    /// </summary>
    static int Structured(ParseResult parse, StructuredOptions o, string kind, string modelSpec, string method, string? dataSpec,
        int epochs, TrainingFlags flags, string output, bool json, PreprocessingFlags preprocessing, RecoveryFlags recovery, LatencyFlags latency, StoreFlags store)
    {
        if (!StructuredPruning.Structures.Contains(kind)) throw new ArgumentException($"--structured '{kind}' is not one of {string.Join(", ", StructuredPruning.Structures)}");
        var stage = Stage(parse, o, kind, method);
        var description = Description(parse, dataSpec, epochs, modelSpec, stage, output, preprocessing, flags, recovery, o.Inputs, latency, o.Text);
        var result = RunPipeline(parse, store, description);
        var done = result.Stages[0];
        foreach (var distilled in done.Distillations) recovery.Add(distilled);
        var unit = kind == "head" ? PruningUnit.Head : PruningUnit.Channel;
        switch (Sources.Kind(description.Data))
        {
            case DataKind.Text:
                var distillation = recovery.Json();
                if (done.Blocks is { } removed)
                    BlockReport(removed, done.DenseMacs, done.Macs, output, json, null, null, result.PerplexityBefore, result.PerplexityAfter, distillation is null ? null : new { distillation });
                else LanguageModelReport(done, unit, output, json, result.PerplexityBefore!, result.PerplexityAfter!, distillation);
                if (!json)
                {
                    if (result.Latency is { } timed) Console.WriteLine(RunCommand.Latency(timed));
                    recovery.Print(parse);
                }
                return 0;
            case DataKind.Unlabeled:
                var fed = FlagNames.Rewrite(result.Input);
                if (done.Blocks is { } blocks)
                {
                    BlockReport(blocks, done.DenseMacs, done.Macs, output, json, null, null, null, null,
                        new { fed = PreprocessingFlags.Json(fed), written = PreprocessingFlags.Json(FlagNames.Rewrite(result.Written)), distillation = recovery.Json() });
                    if (!json) PreprocessingFlags.Print(fed);
                }
                else
                {
                    StructuredReport(done.Channels!, done.DenseMacs, done.Macs, unit, output, json, null, null,
                        new { data = result.Examples, fed = PreprocessingFlags.Json(fed), written = PreprocessingFlags.Json(FlagNames.Rewrite(result.Written)), distillation = recovery.Json() });
                    if (!json) Console.WriteLine($"data: {result.Examples}");
                }
                if (!json)
                {
                    if (result.Latency is { } l) Console.WriteLine(RunCommand.Latency(l));
                    recovery.Print(parse);
                }
                return 0;
        }

        var input = new
        {
            fed = PreprocessingFlags.Json(FlagNames.Rewrite(result.Input)), written = PreprocessingFlags.Json(FlagNames.Rewrite(result.Written)),
            fine_tune = done.Trainable is null ? null : TrainingFlags.Json(done.Trainable), distillation = recovery.Json(),
        };
        if (done.Blocks is { } depth) BlockReport(depth, done.DenseMacs, done.Macs, output, json, result.Before, result.After, null, null, input);
        else StructuredReport(done.Channels!, done.DenseMacs, done.Macs, unit, output, json, result.Before, result.After, input);
        if (!json)
        {
            if (result.Latency is { } l) Console.WriteLine(RunCommand.Latency(l));
            // Pixels are what preprocessing describes: an encoder fed token ids has nothing to say there.
            if (result.TakesPixels) PreprocessingFlags.Print(FlagNames.Rewrite(result.Input));
            if (result.Written != result.Input) Console.WriteLine($"output model: {result.Written.Describe()}");
            if (done.Trainable is not null) Console.WriteLine($"{(recovery.Distill(parse) ? "distillation" : "fine-tune")} {TrainingFlags.Describe(done.Trainable)}");
            recovery.Print(parse);
        }
        Verbosity.Summary(RunCommand.Summary(result));
        return 0;
    }

    /// <summary>The structured stage the flags describe (a recipe's <c>stages[0]</c> with <c>structure</c>).</summary>
    static StageDescription Stage(ParseResult parse, StructuredOptions o, string kind, string method)
    {
        int? blocks = parse.GetValue(o.Blocks);
        int steps = parse.GetValue(o.Steps), calibration = parse.GetValue(o.Calibration);
        string aggregate = parse.GetValue(o.Aggregate)!;
        return new StageDescription(method, null, Structure: kind, Ratio: kind == "block" && blocks is not null ? null : parse.GetValue(o.Ratio),
            RoundTo: parse.GetValue(o.RoundTo), MaxRatio: parse.GetValue(o.MaxRatio), Global: parse.GetValue(o.Global),
            Ignore: parse.GetValue(o.Ignore) is { Length: > 0 } ignore ? ignore : null, Approximate: parse.GetValue(o.Approximate),
            FfnRatio: parse.GetValue(o.FfnRatio), HiddenRatio: parse.GetValue(o.HiddenRatio), Steps: steps == 1 ? null : steps,
            Calibration: calibration == 0 ? null : calibration, Aggregate: aggregate == "sum" ? null : aggregate, IncludeReaders: parse.GetValue(o.IncludeReaders), Blocks: blocks);
    }

    /// <summary>One group of a structured-pruning report, as JSON.</summary>
    static object GroupJson(GroupChange g) =>
        new { producers = g.Producers, before = g.Before, after = g.After, exact = g.Approximations.Count == 0, approximations = g.Approximations };

    static void StructuredReport(ChannelStageResult result, long denseMacs, long prunedMacs, PruningUnit unit, string output, bool json,
        ClassificationMetrics? before, ClassificationMetrics? after, object? input = null)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                groups = result.Groups.Select(GroupJson),
                left_out = result.Blocked.Select(b => new { producers = b.Producers, channels = b.Size, reasons = b.Reasons }),
                dense_params = result.DenseParameters,
                params_after = result.PrunedParameters,
                dense_macs = denseMacs,
                macs_after = prunedMacs,
                accuracy_before = before?.Top1,
                accuracy_after = after?.Top1,
                input,
            }, Table.Json));
            return;
        }
        var rows = result.Groups.Select(g => (IReadOnlyList<string>)new[]
        {
            Table.Names(g.Producers),
            g.Before.ToString(CultureInfo.InvariantCulture), g.After.ToString(CultureInfo.InvariantCulture), g.Approximations.Count == 0 ? "yes" : "no",
        });
        Table.Write(Console.Out, new[] { unit == PruningUnit.Head ? "attention heads (q, k, v projections)" : "channel group (producers)", "before", "after", "exact" }, rows);
        if (result.Groups.FirstOrDefault(g => g.Approximations.Count > 0) is { } inexact)
            Console.WriteLine(inexact.After < inexact.Before
                ? $"not exact (pruned with --approximate; fine-tune afterwards): {inexact.Approximations[0]}"
                : $"not exact, so kept: {inexact.Approximations[0]}; --approximate prunes such groups too");
        foreach (var blocked in result.Blocked)
            Console.WriteLine($"left out: {blocked.Size} channels of {string.Join(", ", blocked.Producers.Take(3))}: {blocked.Reasons[0]}" +
                (blocked.Reasons[0].StartsWith("reaches graph output", StringComparison.Ordinal) ? " (--hidden-ratio R --approximate removes them, the output narrowing)" : ""));
        Console.WriteLine();
        Console.WriteLine($"saved {output}");
        PrintSizes(result.DenseParameters, result.PrunedParameters, denseMacs, prunedMacs, before, after);
    }

    /// <summary>Prints parameters and MACs before → after (with the reduction factors) and the accuracy change if measured.</summary>
    static void PrintSizes(long denseParameters, long prunedParameters, long denseMacs, long prunedMacs, ClassificationMetrics? before, ClassificationMetrics? after)
    {
        static string Fewer(long from, long to) => ((double)from / Math.Max(1, to)).ToString("F2", CultureInfo.InvariantCulture);
        Console.WriteLine($"params {Count(denseParameters)} -> {Count(prunedParameters)} ({Fewer(denseParameters, prunedParameters)}x fewer)");
        Console.WriteLine($"MACs per example {Count(denseMacs)} -> {Count(prunedMacs)} ({Fewer(denseMacs, prunedMacs)}x fewer)");
        if (before is not null && after is not null)
            Console.WriteLine(AccuracyChange(before, after));
    }
}
