using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Recipes;
using PruneSharp.Runs;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp run RECIPE.yaml [--set KEY=VALUE ...]</c>: reads a recipe (docs/recipes.md), reports every problem
/// with file, line and column, or runs its pipeline and prints what each stage did.
/// </summary>
static class RunCommand
{
    /// <summary>The kind of run a recipe records in the run store (sweeps look for it).</summary>
    public const string Kind = PipelineRecording.Kind;

    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "The recipe: a YAML file describing model, data, pruning stages, recovery, evaluation and export (docs/recipes.md)." };
        var set = new Option<string[]>("--set") { Description = "Override a recipe key: KEY=VALUE (e.g. stages.0.sparsity=0.8, recovery.epochs=2; a stage key alone sets every stage, a comparison's variants' too). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var check = new Option<bool>("--check") { Description = "Only read and validate the recipe; print the pipeline it describes." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var group = new Option<string?>("--group") { Description = "The group this run belongs to in the run store (a sweep gives its cells one)." };
        var store = new StoreFlags();
        var command = new Command("run",
            "Run a recipe: the whole pipeline (load, prune stages, recover, evaluate, export) described in one YAML file.\n" +
            "Example: prunesharp run examples/magnitude.yaml --set stages.0.sparsity=0.8 --set recovery.epochs=2")
        {
            recipe, set, check, json, group,
        };
        foreach (var option in store.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var overrides = (parse.GetValue(set) ?? Array.Empty<string>()).Select(RecipeOverride.Parse).ToList();
            var loaded = Load(parse.GetValue(recipe)!, overrides);
            if (loaded is null) return 1;
            bool asJson = parse.GetValue(json);
            int Run(string key, object described, string summary, RunStart start, Func<PipelineRecording?, int> run) =>
                CheckOrRun(parse, store, loaded, parse.GetValue(group), parse.GetValue(check), asJson, key, described, summary, start, run);
            if (loaded.Lottery is { } lottery)
                return Run("lottery", lottery, $"Lottery Ticket experiment of {lottery.Rounds} round(s)",
                    new RunStart { Kind = Kind, Method = LotteryTicketPipeline.Method(lottery), Model = lottery.Model, Dataset = lottery.Data.Source, Seed = lottery.Seed },
                    recording =>
                    {
                        LthCommand.Render(TrainCommand.WithCtrlC(token => LotteryTicketPipeline.Run(lottery, Verbosity.Progress, token, recording)), asJson);
                        return 0;
                    });
            if (loaded.Llm is { } llm)
                return Run("llm", llm, $"checkpoint prune ({LlmPruningPipeline.Method(llm)} to {llm.Sparsity}){(llm.Evaluation is { } scored ? $", then its perplexity on {scored.Text}" : "")}",
                    new RunStart { Kind = Kind, Method = LlmPruningPipeline.Method(llm), Model = llm.Checkpoint, Dataset = llm.Calibration, Seed = llm.Seed },
                    recording =>
                    {
                        LlmCommand.RenderPrune(TrainCommand.WithCtrlC(token => LlmPruningPipeline.Run(llm, asJson ? PipelineProgress.None : Verbosity.Progress, token, recording)), asJson);
                        return 0;
                    });
            if (loaded.LlmDepth is { } depth)
                return Run("llm", depth, $"checkpoint layer removal ({LlmDepthPipeline.Method(depth)}: {(depth.Remove is { } n ? $"{n} layer(s)" : $"layers {string.Join(", ", depth.Layers!)}")}){(depth.Evaluation is { } scored ? $", then its perplexity on {scored.Text}" : "")}",
                    new RunStart { Kind = Kind, Method = LlmDepthPipeline.Method(depth), Model = depth.Checkpoint, Dataset = depth.Calibration, Seed = depth.Seed },
                    recording =>
                    {
                        LlmCommand.RenderDepth(TrainCommand.WithCtrlC(token => LlmDepthPipeline.Run(depth, asJson ? PipelineProgress.None : Verbosity.Progress, token, recording)), asJson);
                        return 0;
                    });
            if (loaded.Evaluation is { } evaluation)
                return Run("evaluation", evaluation, $"perplexity of {evaluation.Checkpoint} on {evaluation.Text}",
                    new RunStart { Kind = Kind, Method = LlmEvaluationPipeline.Method, Model = evaluation.Checkpoint, Dataset = evaluation.Text },
                    recording =>
                    {
                        LlmCommand.RenderEvaluation(TrainCommand.WithCtrlC(token => LlmEvaluationPipeline.Run(evaluation, token, recording)), asJson);
                        return 0;
                    });
            if (loaded.Comparison is { } comparison)
            {
                // The rows go to the comparison's own store (runs.db in its folder, from which its report is made) and, each
                // as a run named with the recipe's identity, to this run's store.
                return Run("comparison", comparison, $"comparison of the dense model and {comparison.Variants.Count} variant(s) in {comparison.Folder}",
                    new RunStart { Kind = Kind }, recording =>
                    {
                        DemoCommand.Render(TrainCommand.WithCtrlC(token => ComparisonPipeline.Run(comparison, Verbosity.Progress, token, recording)), asJson);
                        return 0;
                    });
            }
            if (loaded.Training is { } training)
                return Run("training", training, $"training run ({TrainingPipeline.Method(training)})", new RunStart
                {
                    Kind = Kind, Method = TrainingPipeline.Method(training), Model = training.Model, Dataset = training.Data.Source, Seed = training.Seed,
                    TargetSparsity = training.AtInit?.Sparsity ?? training.DynamicSparsity?.Sparsity ?? training.Surgery?.Sparsity,
                }, recording => TrainCommand.Run(training, recording, asJson, null, "--set training.resume=true"));
            return Run("pipeline", loaded.Pipeline, $"{loaded.Pipeline.Stages.Count} stage(s)", PipelineRecording.Describe(loaded.Pipeline), recording =>
            {
                Render(TrainCommand.WithCtrlC(token => Pipeline.Run(loaded.Pipeline, Verbosity.Progress, token, recording)), loaded.Identity, asJson);
                return 0;
            });
        });
        return command;
    }

    /// <summary>
    /// With <paramref name="check"/>, prints what the recipe describes (<paramref name="described"/> under
    /// <paramref name="key"/> as JSON, or <paramref name="summary"/>); otherwise runs it through the library, recorded
    /// as the row <paramref name="start"/> completed with the recipe, its identity, group, command and environment.
    /// </summary>
    static int CheckOrRun(ParseResult parse, StoreFlags store, Recipe loaded, string? group, bool check, bool json, string key, object described, string summary,
        RunStart start, Func<PipelineRecording?, int> run)
    {
        if (check)
        {
            Console.WriteLine(json ? JsonSerializer.Serialize(new Dictionary<string, object> { ["identity"] = loaded.Identity, [key] = described }, Table.Json)
                : $"{loaded.Source}: valid; {summary}, identity {loaded.Identity}");
            return 0;
        }
        using var runs = store.Open(parse);
        var options = RunRecording.Describe(parse, Kind, null);
        return run(runs is null ? null : new PipelineRecording(runs, start with
        {
            Name = loaded.Identity, Group = group, Recipe = File.ReadAllText(loaded.Source),
            Command = options.Command, Parameters = options.Parameters, Environment = options.Environment,
        }));
    }

    /// <summary>Reads the recipe, printing every problem on its own line (null when there are problems).</summary>
    public static Recipe? Load(string path, IReadOnlyList<RecipeOverride> overrides) => Read(() => Recipe.Load(path, overrides), path);

    /// <summary>The recipe <paramref name="read"/> gives, or null after printing each of its problems on its own line and their count in <paramref name="path"/>.</summary>
    public static Recipe? Read(Func<Recipe> read, string path)
    {
        try
        {
            return read();
        }
        catch (RecipeException e)
        {
            foreach (var problem in e.Problems) Console.Error.WriteLine($"prunesharp: {problem}");
            Console.Error.WriteLine($"prunesharp: {e.Problems.Count} problem(s) in {path}");
            return null;
        }
    }

    /// <summary>A pipeline's result as JSON.</summary>
    public static object Json(PipelineResult result, string identity) => new
    {
        identity,
        output = result.Output,
        seconds = result.Elapsed.TotalSeconds,
        accuracy_before = result.Before?.Top1,
        accuracy_after = result.After?.Top1,
        perplexity_before = result.PerplexityBefore?.Perplexity,
        perplexity_after = result.PerplexityAfter?.Perplexity,
        data = result.Examples,
        latency = result.Latency is { } l ? new { median_ms = l.Median * 1e3, dense_median_ms = l.DenseMedian * 1e3, threads = l.Threads, rounds = l.Rounds } : null,
        stages = result.Stages.Select(s => new
        {
            method = s.Stage.Method,
            structure = s.Stage.Structure,
            granularity = s.Unstructured is null ? null : s.Stage.Granularity,
            scope = s.Unstructured is null ? null : s.Stage.Scope,
            schedule = s.Unstructured is null ? null : s.Stage.Schedule,
            target_sparsity = s.Unstructured?.Sparsity,
            first_last_kept = s.Unstructured?.KeptFirstAndLast,
            pruned_sparsity = s.Unstructured is { } u ? PrunedSparsity(u.Outcome) : (double?)null,
            ratio = s.Stage.Ratio,
            groups = s.Channels?.Groups.Select(g => new { producers = g.Producers, before = g.Before, after = g.After }),
            blocks = s.Blocks?.Blocks.Select(b => new { add = b.Block.Add, score = b.Score, removed = b.Removed }),
            params_before = s.Channels?.DenseParameters ?? s.Blocks?.DenseParameters,
            params_after = s.Channels?.PrunedParameters ?? s.Blocks?.PrunedParameters,
            total_sparsity = s.Weights.Sparsity,
            compression_ratio = s.Weights.CompressionRatio,
            dense_macs = s.DenseMacs, effective_macs = s.Macs,
            accuracy_before = s.Before?.Top1,
            accuracy_after = s.After?.Top1,
            perplexity_before = s.PerplexityBefore?.Perplexity,
            perplexity_after = s.PerplexityAfter?.Perplexity,
            fidelity = s.Unlabeled is { } f ? f.FidelityBefore.Select((b, k) => new { name = b.Name, cosine_before = b.MeanCosine, cosine_after = f.FidelityAfter?[k].MeanCosine }) : null,
            left_dense = s.Unstructured?.Outcome.LeftOut.Select(l => new { name = l.Name, reason = l.Reason }).Concat(s.Unstructured.Outcome.Skipped.Select(k => new { name = k.Key, reason = k.Value })),
            left_whole = s.Channels?.Blocked.Select(b => new { producers = b.Producers, channels = b.Size, reasons = b.Reasons }),
            distillation = s.Distillation is { } d ? new { loss_before = d.LossBefore, loss_after = d.LossAfter } : null,
            seconds = s.Elapsed.TotalSeconds,
        }),
    };

    /// <summary>The sparsity of the weights the stage could prune.</summary>
    static double PrunedSparsity(UnstructuredOutcome o)
    {
        var layers = o.Sparsity.Layers.Where(l => o.Prunable.Contains(l.Name)).ToList();
        long total = layers.Sum(l => l.Parameters);
        return total == 0 ? 0 : 1 - (double)layers.Sum(l => l.NonZeros) / total;
    }

    /// <summary>What a stage removed, in words: the pruned weights' sparsity, or the fraction of parameters removed with the channels, heads or blocks.</summary>
    static string Removed(StageResult s)
    {
        if (s.Unstructured is { } u) return $"{PruneCommand.Percent(PrunedSparsity(u.Outcome))} of pruned weights zero";
        var (dense, pruned) = s.Blocks is { } b ? (b.DenseParameters, b.PrunedParameters) : (s.Channels!.DenseParameters, s.Channels.PrunedParameters);
        return $"{PruneCommand.Percent(1 - (double)pruned / dense)} of parameters removed";
    }

    /// <summary>What a stage is, in words.</summary>
    static string What(StageResult s)
    {
        var st = s.Stage;
        string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        if (s.Unstructured is { } u) return $"{st.Granularity}, {st.Scope}, {st.Schedule}, sparsity {Number(u.Sparsity)}";
        if (s.Blocks is { } b) return $"residual blocks, {b.Blocks.Count(x => x.Removed)} of {b.Blocks.Count} removed";
        return $"{(st.Structure == "head" ? "heads" : "channels")}, ratio {Number(st.Ratio!.Value)}" + (st.FfnRatio is { } f ? $", ffn {Number(f)}" : "")
            + (st.HiddenRatio is { } h ? $", hidden {Number(h)}" : "");
    }

    static void Render(PipelineResult result, string identity, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(Json(result, identity), Table.Json));
            return;
        }
        var rows = result.Stages.Select((s, i) => (IReadOnlyList<string>)new[]
        {
            (i + 1).ToString(CultureInfo.InvariantCulture), s.Stage.Method,
            What(s), Removed(s), s.After is { } a ? PruneCommand.Percent(a.Top1) : s.PerplexityAfter is { } p ? p.Perplexity.ToString("F3", CultureInfo.InvariantCulture) : "-",
        });
        Table.Write(Console.Out, new[] { "stage", "method", "what", "result", result.PerplexityAfter is null ? "top-1 after" : "perplexity after" }, rows);
        Console.WriteLine();
        var last = result.Stages[^1];
        if (result.Output is not null) Console.WriteLine($"saved {result.Output}");
        Console.WriteLine($"total params {PruneCommand.Count(last.Weights.Parameters)}, non-zeros {PruneCommand.Count(last.Weights.NonZeros)}, sparsity {PruneCommand.Percent(last.Weights.Sparsity)} (all parameters)");
        Console.WriteLine($"MACs per example: dense {PruneCommand.Count(result.Stages[0].DenseMacs)}, effective {PruneCommand.Count(last.Macs)}");
        if (result.Before is { } before && result.After is { } after)
            Console.WriteLine($"top-1 accuracy: before {PruneCommand.Percent(before.Top1)}, after {PruneCommand.Percent(after.Top1)}");
        if (result.PerplexityBefore is { } dense && result.PerplexityAfter is { } pruned)
            Console.WriteLine($"held-out perplexity: before {dense.Perplexity.ToString("F3", CultureInfo.InvariantCulture)}, after {pruned.Perplexity.ToString("F3", CultureInfo.InvariantCulture)} ({pruned.Protocol})");
        if (result.Examples is { } examples) Console.WriteLine($"data: {examples}");
        if (result.Latency is { } l) Console.WriteLine(Latency(l));
        if (result.TakesPixels) PreprocessingFlags.Print(result.Input);
        Console.WriteLine($"recipe identity {identity}; {result.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
        Verbosity.Summary(Summary(result));
    }

    /// <summary>The measured latency in words.</summary>
    public static string Latency(LatencyResult l) =>
        $"latency at batch 1 (ONNX Runtime, {l.Threads} thread(s), median of {l.Rounds}): {(l.Median * 1e3).ToString("F3", CultureInfo.InvariantCulture)} ms, " +
        $"dense {(l.DenseMedian * 1e3).ToString("F3", CultureInfo.InvariantCulture)} ms (x{(l.DenseMedian / l.Median).ToString("F2", CultureInfo.InvariantCulture)})";

    /// <summary>A pipeline's result in one line: what was written, its sparsity, accuracy and latency (what <c>--quiet</c> prints).</summary>
    public static string Summary(PipelineResult result)
    {
        var last = result.Stages[^1].Weights;
        var parts = new List<string> { result.Output is null ? "not saved" : $"saved {result.Output}", $"sparsity {PruneCommand.Percent(last.Sparsity)}" };
        if (result.After is { } after) parts.Add($"top-1 {PruneCommand.Percent(after.Top1)}");
        if (result.PerplexityAfter is { } perplexity) parts.Add($"perplexity {perplexity.Perplexity.ToString("F3", CultureInfo.InvariantCulture)}");
        if (result.Latency is { } l) parts.Add($"latency {(l.Median * 1e3).ToString("F3", CultureInfo.InvariantCulture)} ms");
        return string.Join(", ", parts);
    }
}
