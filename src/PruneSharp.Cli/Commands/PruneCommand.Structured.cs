using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>The channel-pruning branch of <c>prunesharp prune</c>.</summary>
static partial class PruneCommand
{
    /// <summary>Options that only structured pruning reads.</summary>
    sealed class StructuredOptions
    {
        public Option<string?> Kind { get; } = new("--structured") { Description = "channel: remove whole channels/neurons (coupled across the graph) and save a smaller dense model." };
        public Option<double> Ratio { get; } = new("--ratio") { Description = "Fraction of channels to remove (per group, or of all with --global).", DefaultValueFactory = _ => 0.5 };
        public Option<bool> Global { get; } = new("--global") { Description = "Rank channels of all groups together (scores normalised by each group's mean)." };
        public Option<int> RoundTo { get; } = new("--round-to") { Description = "Keep a multiple of this many channels per group.", DefaultValueFactory = _ => 1 };
        public Option<double> MaxRatio { get; } = new("--max-ratio") { Description = "Never remove more than this fraction of one group.", DefaultValueFactory = _ => 0.9 };
        public Option<string[]> Ignore { get; } = new("--ignore") { Description = "Nodes or weights whose output channels are kept (e.g. fc).", AllowMultipleArgumentsPerToken = true };
        public Option<int> Steps { get; } = new("--steps") { Description = "Prune in this many steps (fine-tuning between them with --finetune-epochs).", DefaultValueFactory = _ => 1 };
        public Option<int> Calibration { get; } = new("--calibration") { Description = "Refit the layers that lost inputs by least squares on this many training examples (needs --data; 0: off).", DefaultValueFactory = _ => 0 };

        public IEnumerable<Option> All => new Option[] { Kind, Ratio, Global, RoundTo, MaxRatio, Ignore, Steps, Calibration };
    }

    static int Structured(ParseResult parse, StructuredOptions o, string kind, string modelSpec, string method, string? dataSpec,
        int epochs, TrainingFlags flags, string output, bool json)
    {
        if (kind != "channel") throw new ArgumentException($"--structured '{kind}' is not supported; use channel");
        int calibrationCount = parse.GetValue(o.Calibration), steps = parse.GetValue(o.Steps);
        if (calibrationCount < 0) throw new ArgumentException($"--calibration must be non-negative, got {calibrationCount}");
        if (calibrationCount > 0 && dataSpec is null) throw new ArgumentException("--calibration needs --data");
        var importance = Importance(method, parse.GetValue(flags.Seed));
        if (importance is TaylorImportance or FisherImportance or ApozImportance && dataSpec is null)
            throw new ArgumentException($"--method {method} needs --data (it observes the model on training batches)");
        var options = new ChannelPruningOptions
        {
            Ratio = parse.GetValue(o.Ratio),
            Global = parse.GetValue(o.Global),
            RoundTo = parse.GetValue(o.RoundTo),
            MaxRatio = parse.GetValue(o.MaxRatio),
            Ignore = parse.GetValue(o.Ignore) ?? Array.Empty<string>(),
        };

        var train = dataSpec is null ? null : CliInputs.LoadData(dataSpec, DataSplit.Train);
        var test = dataSpec is null ? null : CliInputs.LoadData(dataSpec, DataSplit.Test);
        using var loaded = CliInputs.LoadModel(modelSpec, train, parse.GetValue(flags.Seed));
        // Exporters compute reshape targets and chunk bounds from shapes; folded to constants, channels flow through them.
        var graph = loaded.ToGraph();
        using var folded = Graph.Passes.ShapeFolding.Apply(graph) > 0 ? new GraphModule(graph) : null;
        folded?.train(loaded.training);
        var model = folded ?? loaded;
        var sample = test is not null ? test.GetBatch(new[] { 0 }).Inputs : CliInputs.ExampleInput(model);
        var before = test is null ? null : Evaluator.Classify(model, test);
        var fineTune = flags.Options(parse, epochs, train?.Count ?? 0);
        void FineTune(GraphModule m)
        {
            if (epochs == 0 || train is null) return;
            using var trainer = new Trainer(m, fineTune) { Progress = new ProgressBar("fine-tune") };
            if (TrainCommand.WithCtrlC(token => trainer.Fit(train, token)).Cancelled) throw new OperationCanceledException();
        }
        IReadOnlyList<Tensor>? calibration = calibrationCount == 0 ? null
            : new[] { train!.GetBatch(Enumerable.Range(0, Math.Min(calibrationCount, train.Count)).ToArray()).Inputs };
        Action<DependencyGraph>? observe = importance switch
        {
            TaylorImportance => g => AccumulateGradients(g.Module, train!),
            ApozImportance apoz => g => apoz.Observe(g, ScoringBatches(train!).Select(b => (IReadOnlyList<Tensor>)new[] { b.Inputs })),
            FisherImportance fisher => g => fisher.Observe(g, ScoringBatches(train!).Select(b => ((IReadOnlyList<Tensor>)new[] { b.Inputs }, b.Targets))),
            _ => null,
        };

        var result = ChannelPruner.Prune(model, new[] { sample }, importance, options, steps, FineTune, calibration, observe);
        using var pruned = result.Model;
        FineTune(pruned);
        var after = test is null ? null : Evaluator.Classify(pruned, test);
        OnnxFile.Save(pruned, output);
        StructuredReport(result, output, json, before, after);
        return 0;
    }

    static IGroupImportance Importance(string method, long seed) => method.ToLowerInvariant() switch
    {
        "l1" => new MagnitudeImportance(P: 1),
        "l2" or "magnitude" => new MagnitudeImportance(P: 2),
        "fpgm" => new FpgmImportance(),
        "bn-scale" => new BatchNormScaleImportance(),
        "taylor" => new TaylorImportance(),
        "apoz" => new ApozImportance(),
        "fisher" => new FisherImportance(),
        "random" => new RandomImportance(seed),
        _ => throw new ArgumentException($"--method '{method}' is not one of l1, l2, fpgm, bn-scale, taylor, apoz, fisher, random for --structured"),
    };

    /// <summary>Gradients of the cross-entropy over the scoring batches, for Taylor importance.</summary>
    static void AccumulateGradients(GraphModule model, ImageDataset train)
    {
        model.train();
        model.zero_grad();
        foreach (var batch in ScoringBatches(train))
        {
            using var scope = NewDisposeScope();
            using var _ = batch;
            nn.functional.cross_entropy(model.call(batch.Inputs), batch.Targets).backward();
        }
        model.eval();
    }

    /// <summary>The training batches that data-driven criteria observe: the first <paramref name="batches"/> × <paramref name="batchSize"/> examples.</summary>
    static IEnumerable<Batch> ScoringBatches(ImageDataset train, int batches = 8, int batchSize = 64)
    {
        for (int b = 0; b < batches; b++)
            yield return train.GetBatch(Enumerable.Range(b * batchSize, batchSize).Select(i => i % train.Count).ToArray());
    }

    static void StructuredReport(ChannelPruningResult result, string output, bool json, ClassificationMetrics? before, ClassificationMetrics? after)
    {
        double macReduction = (double)result.DenseMacs / Math.Max(1, result.PrunedMacs);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                groups = result.Groups.Select(g => new { producers = g.Producers, before = g.Before, after = g.After }),
                left_out = result.Blocked.Select(b => new { producers = b.Producers, channels = b.Size, reasons = b.Reasons }),
                dense_params = result.DenseParameters,
                params_after = result.PrunedParameters,
                dense_macs = result.DenseMacs,
                macs_after = result.PrunedMacs,
                accuracy_before = before?.Top1,
                accuracy_after = after?.Top1,
            }, Table.Json));
            return;
        }
        var rows = result.Groups.Select(g => (IReadOnlyList<string>)new[]
        {
            string.Join(", ", g.Producers.Take(3)) + (g.Producers.Count > 3 ? $" (+{g.Producers.Count - 3})" : ""),
            g.Before.ToString(CultureInfo.InvariantCulture), g.After.ToString(CultureInfo.InvariantCulture),
        });
        Table.Write(Console.Out, new[] { "channel group (producers)", "before", "after" }, rows);
        foreach (var blocked in result.Blocked)
            Console.WriteLine($"left out: {blocked.Size} channels of {string.Join(", ", blocked.Producers.Take(3))}: {blocked.Reasons[0]}");
        Console.WriteLine();
        Console.WriteLine($"saved {output}");
        Console.WriteLine($"params {Count(result.DenseParameters)} -> {Count(result.PrunedParameters)} ({((double)result.DenseParameters / Math.Max(1, result.PrunedParameters)).ToString("F2", CultureInfo.InvariantCulture)}x fewer)");
        Console.WriteLine($"MACs per example {Count(result.DenseMacs)} -> {Count(result.PrunedMacs)} ({macReduction.ToString("F2", CultureInfo.InvariantCulture)}x fewer)");
        if (before is not null && after is not null)
            Console.WriteLine(AccuracyChange(before, after));
    }
}
