using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Metrics;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Recovery;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp prune</c>: turns its flags into a <see cref="PipelineDescription"/> of one stage (unstructured here,
/// <c>--structured channel|head|block</c> in PruneCommand.Structured.cs), runs it with the library's
/// <see cref="Pipeline"/> whatever the data (images or none, a language model's text, unlabeled inputs), and renders
/// what comes back (the partial files PruneCommand.Blocks.cs, .LanguageModel.cs and .Unlabeled.cs hold the reports
/// of blocks, of a language model's channels or heads, and of fidelity on unlabeled data).
/// </summary>
static partial class PruneCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "An ONNX file, or a zoo classifier name (pruned at its initialisation)." };
        var method = new Option<string>("--method") { Description = PruningParts.MethodHelp, DefaultValueFactory = _ => "magnitude" };
        var granularity = new Option<string>("--granularity") { Description = PruningParts.GranularityHelp, DefaultValueFactory = _ => "element" };
        var scope = new Option<string>("--scope") { Description = PruningParts.ScopeHelp, DefaultValueFactory = _ => "local" };
        var sparsity = new Option<double?>("--sparsity") { Description = "Fraction of the prunable weights to remove, in [0, 1) (N:M and patterns fix it)." };
        var schedule = new Option<string>("--schedule") { Description = "oneshot, iterative:K (K prune/fine-tune rounds), or gradual (Zhu & Gupta cubic schedule during the fine-tune).", DefaultValueFactory = _ => "oneshot" };
        var finetune = new Option<int>("--finetune-epochs") { Description = "Fine-tuning epochs after each pruning round (needs --data).", DefaultValueFactory = _ => 0 };
        var data = new Option<string?>("--data") { Description = CliInputs.DataHelp + ", or a text file (a language model: --tokenizer, --context, --held-out); gives accuracy (perplexity) before and after. " +
            "Unlabeled inputs (--structured: traced on, --calibration and --method apoz; unstructured and N:M: --method wanda, apoz or entropy observe them; both: --recover distill matches the dense model on them): " +
            "a .npz/.npy file, a text file with --tokenizer wordpiece:vocab.txt, a folder of images without class sub-folders. In a recipe: data.source, data.tokenizer, data.context, data.held_out (docs/recipes.md)" };
        var exclude = new Option<string[]>("--exclude") { Description = "Parameters never pruned (names or patterns with * and ?, e.g. conv1.weight fc3.*).", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the pruned ONNX model.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var embeddings = new Option<bool>("--prune-embeddings") { Description = "Also prune embedding tables (word, position, token type); by default only Conv/Gemm/MatMul weights are pruned." };
        var firstLast = new Option<string?>("--first-last") { Description = "keep or prune the first layers (reading the input) and the last (the classifier). Default: keep for N:M and for sparsity of 0.8 or more, prune otherwise." };
        var strict = new Option<bool>("--strict") { Description = "Fail on a layer the granularity cannot split (N:M whose M does not divide its reduction size) instead of leaving it dense with the reason reported." };
        var preprocessing = new PreprocessingFlags(canEmbed: true);
        var flags = new TrainingFlags("--lr-schedule");
        var command = new Command("prune",
            "Prune a model's weights (unstructured: saved with zeros in place of the pruned weights) or, with --structured channel|head|block,\n" +
            "remove whole channels, attention heads or residual blocks and save a smaller dense model.\n" +
            "Example: prunesharp prune lenet5.onnx --scope global --sparsity 0.9 --finetune-epochs 1 --data fashion-mnist -o lenet5-90.onnx\n" +
            "Example: prunesharp prune resnet18.onnx --structured channel --method l2 --ratio 0.5 --round-to 8 --ignore fc -o small.onnx\n" +
            "Example: prunesharp prune gpt.onnx --structured head --method l2 --ratio 0.25 -o fewer-heads.onnx\n" +
            "Example: prunesharp prune resnet-20 --structured block --blocks 3 --data fashion-mnist --finetune-epochs 1 -o shallower.onnx")
        {
            model, method, granularity, scope, sparsity, schedule, finetune, data, exclude, output, json, embeddings, firstLast, strict,
        };
        foreach (var option in preprocessing.All) command.Options.Add(option);
        foreach (var option in flags.All) command.Options.Add(option);
        var structured = new StructuredOptions();
        foreach (var option in structured.All) command.Options.Add(option);
        var recovery = new RecoveryFlags();
        foreach (var option in recovery.All) command.Options.Add(option);
        var latency = new LatencyFlags();
        foreach (var option in latency.All) command.Options.Add(option);
        var store = new StoreFlags();
        foreach (var option in store.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int epochs = parse.GetValue(finetune);
            if (epochs < 0) throw new ArgumentException($"--finetune-epochs must be non-negative, got {epochs}");
            string? dataSpec = parse.GetValue(data);
            if (epochs > 0 && dataSpec is null) throw new ArgumentException("--finetune-epochs needs --data");
            bool unlabeled = dataSpec is not null && Sources.IsUnlabeled(dataSpec, parse.GetValue(structured.Text.Tokenizer)!);
            recovery.Check(parse, epochs, dataSpec, labelled: !unlabeled);
            if (parse.GetValue(structured.Kind) is { } kind)
            {
                if (parse.GetValue(schedule) != "oneshot")
                    throw new ArgumentException($"--schedule '{parse.GetValue(schedule)}' is the unstructured pruning schedule; --structured prunes in --steps (and the fine-tune's learning-rate schedule is --lr-schedule)");
                return Structured(parse, structured, kind, parse.GetValue(model)!, parse.GetValue(method)!, dataSpec, epochs, flags,
                    Path.GetFullPath(parse.GetValue(output)!), parse.GetValue(json), preprocessing, recovery, latency, store);
            }
            // Choices are parsed before any data or model is loaded, so that a typo fails at once.
            var criterion = PruningParts.Criterion(parse.GetValue(method)!, parse.GetValue(flags.Seed));
            UnstructuredPruning.CheckData(criterion, dataSpec is not null, epochs);
            var grain = PruningParts.Granularity(parse.GetValue(granularity)!);
            double target = PruningParts.Sparsity(parse.GetValue(sparsity), grain);
            PruningParts.Allocation(parse.GetValue(scope)!);
            string scheduleText = parse.GetValue(schedule)!;
            int rounds = PruningParts.Rounds(scheduleText);
            if (scheduleText == "gradual" && epochs == 0) throw new ArgumentException("--schedule gradual prunes during fine-tuning: give --finetune-epochs and --data");
            if (recovery.Distill(parse) && !unlabeled && rounds != 1)
                throw new ArgumentException($"--recover distill follows one-shot pruning; --schedule {scheduleText} fine-tunes on labels (--recover finetune)");
            bool keepEdges = parse.GetValue(firstLast)?.ToLowerInvariant() switch
            {
                null => PruningScope.FirstAndLastDefault(grain, target),
                "keep" => true,
                "prune" => false,
                var other => throw new ArgumentException($"--first-last '{other}' is not keep or prune"),
            };
            string edgeChoice = $"first and last layers {(keepEdges ? "kept dense" : "pruned")} ({(parse.GetValue(firstLast) is null ? $"default for {grain.Name} at sparsity {target:0.###}" : "--first-last")}; --first-last {(keepEdges ? "prune" : "keep")} to change)";

            // The library's pipeline, the flags mapped onto its description; the data's kind decides how it runs.
            string[]? excluded = parse.GetValue(exclude) is { Length: > 0 } names ? names : null;
            var unstructured = new StageDescription(parse.GetValue(method)!, parse.GetValue(sparsity), parse.GetValue(granularity)!, parse.GetValue(scope)!, parse.GetValue(schedule)!,
                excluded, parse.GetValue(firstLast)?.ToLowerInvariant(), parse.GetValue(embeddings), parse.GetValue(strict));
            var description = Description(parse, dataSpec, epochs, parse.GetValue(model)!, unstructured, Path.GetFullPath(parse.GetValue(output)!), preprocessing, flags, recovery,
                structured.Inputs, latency, structured.Text);
            var result = RunPipeline(parse, store, description);
            var stage = result.Stages[0];
            var outcome = stage.Unstructured!.Outcome;
            foreach (var distilled in stage.Distillations) recovery.Add(distilled);
            var choices = new Choices(FlagNames.Rewrite(result.Input), FlagNames.Rewrite(result.Written), edgeChoice, outcome.LeftOut, outcome.Skipped, outcome.Trainable)
            {
                Recovery = recovery.Json(), Unlabeled = stage.Unlabeled is { } fidelity ? new UnlabeledReport(result.Examples!, fidelity) : null,
                TakesPixels = Sources.Kind(description.Data) switch { DataKind.Images => true, DataKind.Text => false, _ => result.TakesPixels },
            };
            Report(result.Output!, parse.GetValue(json), outcome.Sparsity, outcome.Prunable, outcome.DenseMacs, outcome.PrunedMacs, outcome.Before, outcome.After,
                result.PerplexityBefore, result.PerplexityAfter, choices, result.Latency);
            if (!parse.GetValue(json)) recovery.Print(parse);
            Verbosity.Summary(RunCommand.Summary(result));
            return 0;
        });
        return command;
    }

    /// <summary>Runs <paramref name="description"/> through the library's pipeline, recorded as a <c>prune</c> run with the verb's options.</summary>
    static PipelineResult RunPipeline(ParseResult parse, StoreFlags store, PipelineDescription description)
    {
        using var runs = store.Open(parse);
        var options = RunRecording.Describe(parse, "prune", null);
        var recording = runs is null ? null : new PipelineRecording(runs, PipelineRecording.Describe(description) with
        {
            Kind = "prune", Model = options.Model, Dataset = options.Dataset, Command = options.Command, Parameters = options.Parameters, Environment = options.Environment,
        });
        return FlagNames.Translate(() => TrainCommand.WithCtrlC(token => Pipeline.Run(description, Progress, token, recording)));
    }

    /// <summary>
    /// The pipeline the flags describe: the one <paramref name="stage"/>, its recovery, the data (a text file's
    /// tokenizer, context and held-out fraction from <paramref name="text"/>, stored as null at their defaults), the
    /// inputs, the export and latency.
    /// </summary>
    static PipelineDescription Description(ParseResult parse, string? dataSpec, int epochs, string model, StageDescription stage, string output,
        PreprocessingFlags preprocessing, TrainingFlags flags, RecoveryFlags recovery, InputFlags inputs, LatencyFlags latency, LanguageModelFlags text)
    {
        var data = dataSpec is null ? null : preprocessing.Data(parse, dataSpec, flags.AugmentSpec(parse));
        if (data is not null && Sources.Kind(data with { Tokenizer = parse.GetValue(text.Tokenizer) }) != DataKind.Images)
        {
            string tokenizer = parse.GetValue(text.Tokenizer)!;
            int context = parse.GetValue(text.Context);
            double heldOut = parse.GetValue(text.HeldOut);
            data = data with
            {
                Tokenizer = tokenizer.Equals(DataDescription.DefaultTokenizer, StringComparison.OrdinalIgnoreCase) ? null : tokenizer,
                Context = context == DataDescription.DefaultContext ? null : context, HeldOut = heldOut == DataDescription.DefaultHeldOut ? null : heldOut,
            };
        }
        string[]? Given(Option<string[]> option) => parse.GetValue(option) is { Length: > 0 } values ? values : null;
        bool distill = recovery.Distill(parse);
        var recover = flags.Description(parse, epochs) with
        {
            // The defaults are stored as null, as a recipe that leaves them out has them.
            Kind = recovery.Kind(parse), DistillLoss = distill && parse.GetValue(recovery.Loss) is { } loss && loss != "auto" ? loss : null,
            Temperature = distill && parse.GetValue(recovery.Temperature) is var t && t != new DistillationOptions().Temperature ? t : null,
            DistillFeatures = distill ? Given(recovery.Features) : null,
        };
        var export = new ExportDescription(output, parse.GetValue(preprocessing.Embed), parse.GetValue(preprocessing.KeepOpset));
        string? normalize = dataSpec is null ? parse.GetValue(preprocessing.Normalize) : null;
        var given = Given(inputs.Shape) is null && Given(inputs.Input) is null && normalize is null ? null : new InputsDescription(Given(inputs.Shape), Given(inputs.Input), normalize);
        return new PipelineDescription(model, data, new[] { stage }, recover, export, parse.GetValue(flags.Seed), true, latency.Description(parse), given);
    }

    /// <summary>Progress bars on stderr for each training run, and status lines.</summary>
    static PipelineProgress Progress => Verbosity.Progress;

    /// <summary>
    /// The choices a prune made for the user: what it fed, what it wrote, the first and last layers, the layers left
    /// dense and why, and what fine-tuning trained.
    /// </summary>
    sealed record Choices(Preprocessing Input, Preprocessing Written, string EdgeChoice, IReadOnlyList<LeftOutWeight> LeftOut,
        IReadOnlyDictionary<string, string> Skipped, TrainableSelection? Trainable)
    {
        /// <summary>What distillation did, as JSON (null without --recover distill).</summary>
        public object? Recovery { get; init; }

        /// <summary>Unlabeled data: what was fed, and every output's fidelity to the dense model before and after the recovery (null otherwise).</summary>
        public UnlabeledReport? Unlabeled { get; init; }

        public object Json() => new
        {
            input = PreprocessingFlags.Json(Input),
            output_input = PreprocessingFlags.Json(Written),
            first_last = EdgeChoice,
            left_out = LeftOut.Select(l => new { name = l.Name, reason = l.Reason }),
            skipped = Skipped.Select(s => new { name = s.Key, reason = s.Value }),
            fine_tune = Trainable is null ? null : TrainingFlags.Json(Trainable),
            distillation = Recovery,
            data = Unlabeled?.Data,
            fidelity = Unlabeled?.Json(),
        };

        /// <summary>Whether the model reads pixels, which the preprocessing describes (an encoder fed token ids does not).</summary>
        public bool TakesPixels { get; init; } = true;

        public void Print()
        {
            if (TakesPixels) PreprocessingFlags.Print(Input);
            if (TakesPixels && Written != Input) Console.WriteLine($"output model: {Written.Describe()}");
            Console.WriteLine(EdgeChoice);
            foreach (var l in LeftOut) Console.WriteLine($"left dense: {l.Name}: {l.Reason}");
            foreach (var (name, reason) in Skipped) Console.WriteLine($"left dense: {name}: {reason} (--strict makes this an error; --exclude {name} silences it)");
            if (Trainable is not null) Console.WriteLine($"{(Unlabeled is null && Recovery is null ? "fine-tune" : "distillation")} {TrainingFlags.Describe(Trainable)}");
            Unlabeled?.Print();
        }
    }

    static void Report(string output, bool json, SparsityReport sparsity, IReadOnlySet<string> prunable, MacReport dense, MacReport pruned,
        ClassificationMetrics? before, ClassificationMetrics? after, PerplexityResult? perplexityBefore = null, PerplexityResult? perplexityAfter = null,
        Choices? choices = null, LatencyResult? latency = null)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output,
                latency = latency is { } l ? new { median_ms = l.Median * 1e3, dense_median_ms = l.DenseMedian * 1e3, threads = l.Threads, rounds = l.Rounds } : null,
                perplexity_before = perplexityBefore?.Perplexity,
                perplexity_after = perplexityAfter?.Perplexity,
                layers = sparsity.Layers.Where(l => prunable.Contains(l.Name)).Select(l => new { name = l.Name, shape = l.Shape, @params = l.Parameters, nonzeros = l.NonZeros, sparsity = l.Sparsity }),
                total_params = sparsity.Parameters,
                nonzeros = sparsity.NonZeros,
                sparsity = sparsity.Sparsity,
                compression_ratio = sparsity.CompressionRatio,
                dense_macs = dense.DenseMacs,
                effective_macs = pruned.EffectiveMacs,
                accuracy_before = before?.Top1,
                accuracy_after = after?.Top1,
                choices = choices?.Json(),
            }, Table.Json));
            return;
        }
        var rows = sparsity.Layers.Where(l => prunable.Contains(l.Name)).Select(l => (IReadOnlyList<string>)new[]
        {
            l.Name, Table.Shape(l.Shape), Count(l.Parameters), Count(l.NonZeros), Percent(l.Sparsity),
        });
        Table.Write(Console.Out, new[] { "parameter", "shape", "params", "non-zeros", "sparsity" }, rows);
        Console.WriteLine();
        Console.WriteLine($"saved {output}");
        Console.WriteLine($"total params {Count(sparsity.Parameters)}, non-zeros {Count(sparsity.NonZeros)}, sparsity {Percent(sparsity.Sparsity)} (all parameters, biases included)");
        Console.WriteLine($"compression ratio {sparsity.CompressionRatio.ToString("F2", CultureInfo.InvariantCulture)}x (original / remaining non-zeros)");
        Console.WriteLine($"MACs per example: dense {Count(dense.DenseMacs)}, effective {Count(pruned.EffectiveMacs)} ({pruned.Speedup.ToString("F2", CultureInfo.InvariantCulture)}x fewer)");
        if (before is not null && after is not null)
            Console.WriteLine(AccuracyChange(before, after));
        if (perplexityBefore is not null && perplexityAfter is not null)
            Console.WriteLine(PerplexityChange(perplexityBefore, perplexityAfter));
        if (latency is not null) Console.WriteLine(RunCommand.Latency(latency));
        choices?.Print();
    }

    static string AccuracyChange(ClassificationMetrics before, ClassificationMetrics after) =>
        $"top-1 accuracy: before {Percent(before.Top1)}, after {Percent(after.Top1)} ({((after.Top1 - before.Top1) * 100).ToString("+0.00;-0.00", CultureInfo.InvariantCulture)} points)";

    static string PerplexityChange(PerplexityResult before, PerplexityResult after) =>
        $"held-out perplexity: before {before.Perplexity.ToString("F3", CultureInfo.InvariantCulture)}, after {after.Perplexity.ToString("F3", CultureInfo.InvariantCulture)} ({after.Protocol})";

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
