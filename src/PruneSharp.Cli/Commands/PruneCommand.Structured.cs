using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Structured;
using PruneSharp.Runs;
using PruneSharp.Training;
using static TorchSharp.torch;

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
        public Option<bool> Global { get; } = new("--global") { Description = "Rank channels of all groups together (scores normalised by each group's mean)." };
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

    static int Structured(ParseResult parse, StructuredOptions o, string kind, string modelSpec, string method, string? dataSpec,
        int epochs, TrainingFlags flags, string output, bool json, PreprocessingFlags preprocessing, RecoveryFlags recovery)
    {
        if (kind == "block" && (parse.GetValue(o.FfnRatio) ?? parse.GetValue(o.HiddenRatio)) is not null)
            throw new ArgumentException("--ffn-ratio and --hidden-ratio go with --structured head or channel, not block");
        if (kind == "block") return Blocks(parse, o, modelSpec, method, dataSpec, epochs, flags, output, json, preprocessing, recovery);
        if (kind is not ("channel" or "head")) throw new ArgumentException($"--structured '{kind}' is not one of channel, head, block");
        if (parse.GetValue(o.Blocks) is not null) throw new ArgumentException("--blocks goes with --structured block");
        var unit = kind == "head" ? PruningUnit.Head : PruningUnit.Channel;
        double? ffnRatio = parse.GetValue(o.FfnRatio), hiddenRatio = parse.GetValue(o.HiddenRatio);
        if (ffnRatio is not null && unit != PruningUnit.Head)
            throw new ArgumentException("--ffn-ratio goes with --structured head (--structured channel prunes the FFN width at --ratio)");
        foreach (var (flag, value) in new[] { ("--ratio", (double?)parse.GetValue(o.Ratio)), ("--ffn-ratio", ffnRatio), ("--hidden-ratio", hiddenRatio) })
            if (value is { } r && !(r >= 0 && r < 1)) throw new ArgumentException($"{flag} must be in [0, 1), got {r.ToString(CultureInfo.InvariantCulture)}");
        if (hiddenRatio is not null && !parse.GetValue(o.Approximate))
            throw new ArgumentException("--hidden-ratio needs --approximate: LayerNorm renormalises the hidden channels that stay, so the pruned model only approximates the dense one");
        if (hiddenRatio is not null && recovery.Distill(parse))
            throw new ArgumentException("--hidden-ratio narrows the outputs, so the student's outputs no longer match the dense teacher's: --recover distill cannot run on them (prune the hidden size in a second run, or leave --hidden-ratio out)");
        int calibrationCount = parse.GetValue(o.Calibration), steps = parse.GetValue(o.Steps);
        if (calibrationCount < 0) throw new ArgumentException($"--calibration must be non-negative, got {calibrationCount}");
        if (calibrationCount > 0 && dataSpec is null) throw new ArgumentException("--calibration needs --data");
        var importance = StructuredParts.Importance(method, parse.GetValue(flags.Seed), unit, parse.GetValue(o.Aggregate)!, parse.GetValue(o.IncludeReaders));
        if (importance is TaylorImportance or FisherImportance or ApozImportance && dataSpec is null)
            throw new ArgumentException($"--method {method} needs --data (it observes the model on training batches)");
        var options = new ChannelPruningOptions
        {
            Unit = unit,
            Ratio = parse.GetValue(o.Ratio),
            Global = parse.GetValue(o.Global),
            RoundTo = parse.GetValue(o.RoundTo),
            MaxRatio = parse.GetValue(o.MaxRatio),
            Ignore = parse.GetValue(o.Ignore) ?? Array.Empty<string>(),
            Approximate = parse.GetValue(o.Approximate),
            ChannelRatio = ffnRatio,
            ApproximateRatio = hiddenRatio,
            NarrowOutputs = hiddenRatio is not null,
        };

        if (dataSpec is not null && CliInputs.IsUnlabeled(dataSpec, parse.GetValue(o.Text.Tokenizer)!))
            return StructuredUnlabeled(parse, o, unit, options, importance, method, modelSpec, dataSpec, epochs, flags, output, json, preprocessing, recovery);
        if (dataSpec is not null && LanguageModelFlags.IsText(dataSpec))
            return StructuredLanguageModel(parse, o, unit, options, importance, modelSpec, dataSpec, epochs, flags, output, json);
        var train = dataSpec is null ? null : flags.TrainingData(parse, dataSpec, preprocessing.Sizes(parse));
        var test = dataSpec is null ? null : CliInputs.LoadData(dataSpec, DataSplit.Test, preprocessing.Sizes(parse));
        using var model = CliInputs.LoadModel(modelSpec, train, parse.GetValue(flags.Seed), foldShapes: true);
        var fed = preprocessing.Resolve(parse, model, modelSpec);
        PreprocessingFlags.Apply(fed, train, test);
        IReadOnlyList<Tensor> sample = test is not null ? new[] { test.GetBatch(new[] { 0 }).Inputs } : CliInputs.Examples(model, o.Inputs.Options(parse));
        var before = test is null ? null : Evaluator.Classify(model, test);
        PreprocessingFlags.WarnIfImplausible(before, test?.Classes.Count ?? 0);
        var fineTune = flags.Options(parse, epochs, train?.Count ?? 0);
        // Fine-tuning, or distillation with the dense model (never modified by the pruner) as the teacher.
        void FineTune(GraphModule m)
        {
            if (train is not null) recovery.Train(parse, model, m, train, fineTune);
        }
        IReadOnlyList<Tensor>? calibration = calibrationCount == 0 ? null
            : new[] { train!.GetBatch(Enumerable.Range(0, Math.Min(calibrationCount, train.Count)).ToArray()).Inputs };
        var observe = train is null ? null : StructuredParts.Observer(importance, train, batchSize: 64);

        var shown = Shown(model, sample, options);
        var result = ChannelPruner.Prune(model, sample, importance, options, steps, FineTune, calibration, observe);
        using var pruned = result.Model;
        FineTune(pruned);
        var after = test is null ? null : Evaluator.Classify(pruned, test);
        var written = preprocessing.Save(parse, pruned, fed, output);
        var trainable = epochs > 0 && train is not null ? fineTune.Trainable.Select(pruned) : null;
        StructuredReport(result with { Groups = result.Groups.Where(shown).ToList() }, unit, output, json, before, after,
            new { fed = PreprocessingFlags.Json(fed), written = PreprocessingFlags.Json(written), fine_tune = trainable is null ? null : TrainingFlags.Json(trainable), distillation = recovery.Json() });
        if (!json)
        {
            // Pixels are what preprocessing describes: an encoder fed token ids has nothing to say there.
            if (model.Graph.Inputs.Any(i => i.ElementType is DataType.Float or DataType.Float16 or DataType.Double)) PreprocessingFlags.Print(fed);
            if (written != fed) Console.WriteLine($"output model: {written.Describe()}");
            if (trainable is not null) Console.WriteLine($"{(recovery.Distill(parse) ? "distillation" : "fine-tune")} {TrainingFlags.Describe(trainable)}");
            recovery.Print(parse);
        }
        return 0;
    }

    /// <summary>
    /// The groups the report lists: all of them, or with heads as the unit the attention layers only (none: an error)
    /// and the channel groups that --ffn-ratio or --hidden-ratio narrowed.
    /// </summary>
    static Func<GroupChange, bool> Shown(GraphModule model, IReadOnlyList<Tensor> sample, ChannelPruningOptions options)
    {
        if (options.Unit != PruningUnit.Head) return _ => true;
        var layers = AttentionHeads.Find(DependencyGraph.Build(model, sample));
        if (layers.Count == 0) throw new ArgumentException("--structured head: the model has no attention heads that can be removed (try --structured channel to see what is left out and why)");
        bool channels = options.ChannelRatio is not null || options.ApproximateRatio is not null;
        return g => layers.Any(l => l.Projections.SequenceEqual(g.Producers)) || (channels && g.After < g.Before);
    }

    /// <summary>Fine-tunes a pruned model for <paramref name="epochs"/> epochs (nothing without epochs or data).</summary>
    static void Train(GraphModule model, IDataset? train, TrainerOptions options, int epochs)
    {
        if (epochs == 0 || train is null) return;
        using var trainer = new Trainer(model, options) { Progress = new ProgressBar("fine-tune") };
        if (TrainCommand.WithCtrlC(token => trainer.Fit(train, token)).Cancelled) throw new OperationCanceledException();
    }

    /// <summary>One group of a structured-pruning report, as JSON.</summary>
    static object GroupJson(GroupChange g) =>
        new { producers = g.Producers, before = g.Before, after = g.After, exact = g.Approximations.Count == 0, approximations = g.Approximations };

    static void StructuredReport(ChannelPruningResult result, PruningUnit unit, string output, bool json, ClassificationMetrics? before, ClassificationMetrics? after,
        object? input = null)
    {
        FinishStructured(result.DenseParameters, result.PrunedParameters, result.DenseMacs, result.PrunedMacs, output, before, after);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                groups = result.Groups.Select(GroupJson),
                left_out = result.Blocked.Select(b => new { producers = b.Producers, channels = b.Size, reasons = b.Reasons }),
                dense_params = result.DenseParameters,
                params_after = result.PrunedParameters,
                dense_macs = result.DenseMacs,
                macs_after = result.PrunedMacs,
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
        PrintSizes(result.DenseParameters, result.PrunedParameters, result.DenseMacs, result.PrunedMacs, before, after);
    }

    /// <summary>Hands a structured prune's sizes and accuracies to the run store.</summary>
    static void FinishStructured(long denseParameters, long prunedParameters, long denseMacs, long prunedMacs, string output,
        ClassificationMetrics? before, ClassificationMetrics? after, PerplexityResult? perplexityBefore = null, PerplexityResult? perplexityAfter = null) =>
        RunRecording.Finish([
            .. RunMetrics.Quality(after, before, perplexityAfter, perplexityBefore),
            new(MetricNames.DenseParameters, denseParameters), new(MetricNames.Parameters, prunedParameters),
            new(MetricNames.Sparsity, denseParameters == 0 ? 0 : 1 - (double)prunedParameters / denseParameters),
            new(MetricNames.Density, denseParameters == 0 ? 1 : (double)prunedParameters / denseParameters),
            new(MetricNames.Macs, denseMacs), new(MetricNames.EffectiveMacs, prunedMacs),
        ], null, ("model", output));

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
