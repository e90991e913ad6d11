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
    public const string Kind = "recipe";

    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "The recipe: a YAML file describing model, data, pruning stages, recovery, evaluation and export (docs/recipes.md)." };
        var set = new Option<string[]>("--set") { Description = "Override a recipe key: KEY=VALUE (e.g. stages.0.sparsity=0.8, recovery.epochs=2; a stage key alone sets every stage). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var check = new Option<bool>("--check") { Description = "Only read and validate the recipe; print the pipeline it describes." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var group = new Option<string?>("--group") { Description = "The group this run belongs to in the run store (a sweep gives its cells one)." };
        var command = new Command("run",
            "Run a recipe: the whole pipeline (load, prune stages, recover, evaluate, export) described in one YAML file.\n" +
            "Example: prunesharp run examples/magnitude.yaml --set stages.0.sparsity=0.8 --set recovery.epochs=2")
        {
            recipe, set, check, json, group,
        };
        command.SetAction(parse =>
        {
            var overrides = (parse.GetValue(set) ?? Array.Empty<string>()).Select(RecipeOverride.Parse).ToList();
            var loaded = Load(parse.GetValue(recipe)!, overrides);
            if (loaded is null) return 1;
            if (parse.GetValue(check))
            {
                Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(new { identity = loaded.Identity, pipeline = loaded.Pipeline }, Table.Json)
                    : $"{loaded.Source}: valid; {loaded.Pipeline.Stages.Count} stage(s), identity {loaded.Identity}");
                return 0;
            }
            var result = TrainCommand.WithCtrlC(token => Pipeline.Run(loaded.Pipeline, new PipelineProgress(label => new ProgressBar(label), new StatusLog()), token));
            var layers = result.Stages[^1].Outcome.Sparsity.Layers;
            RunRecording.Finish([
                .. RunRecording.Metrics(result.After, result.Before), .. RunRecording.Size(layers),
                new(MetricNames.Macs, result.Stages[0].Outcome.DenseMacs.DenseMacs), new(MetricNames.EffectiveMacs, result.Stages[^1].Outcome.PrunedMacs.EffectiveMacs),
            ], layers, result.Output is null ? Array.Empty<(string, string)>() : new[] { ("model", result.Output) });
            Render(result, loaded.Identity, parse.GetValue(json));
            return 0;
        });
        RunRecording.Attach(command, Kind, _ => null, records: parse => !parse.GetValue(check),
            describe: (parse, start) => Describe(start, parse.GetValue(recipe)!, parse.GetValue(set), parse.GetValue(group)));
        return command;
    }

    /// <summary>
    /// The run's row from its recipe: the identity as its name (what sweeps look for), the stages as its method, model,
    /// data, seed, the last stage's sparsity and the recipe's text. A recipe with problems keeps the options' row (it fails before running).
    /// </summary>
    static RunStart Describe(RunStart start, string path, string[]? set, string? group)
    {
        try
        {
            var recipe = Recipe.Load(path, (set ?? Array.Empty<string>()).Select(RecipeOverride.Parse));
            var p = recipe.Pipeline;
            return start with
            {
                Name = recipe.Identity,
                Group = group,
                Method = string.Join("+", p.Stages.Select(s => $"{s.Method}/{s.Scope}/{s.Granularity}" + (s.Schedule == "oneshot" ? "" : $"/{s.Schedule}"))),
                Model = p.Model,
                Dataset = p.Data?.Source,
                Seed = p.Seed,
                TargetSparsity = p.Stages.Count == 0 ? null : p.Stages[^1].Sparsity,
                Recipe = File.ReadAllText(path),
            };
        }
        catch (ArgumentException)
        {
            return start with { Group = group };
        }
    }

    /// <summary>Reads the recipe, printing every problem on its own line (null when there are problems).</summary>
    public static Recipe? Load(string path, IReadOnlyList<RecipeOverride> overrides)
    {
        try
        {
            return Recipe.Load(path, overrides);
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
        stages = result.Stages.Select(s => new
        {
            method = s.Stage.Method, granularity = s.Stage.Granularity, scope = s.Stage.Scope, schedule = s.Stage.Schedule,
            target_sparsity = s.Sparsity, first_last_kept = s.KeptFirstAndLast,
            pruned_sparsity = PrunedSparsity(s.Outcome),
            total_sparsity = s.Outcome.Sparsity.Sparsity,
            compression_ratio = s.Outcome.Sparsity.CompressionRatio,
            dense_macs = s.Outcome.DenseMacs.DenseMacs, effective_macs = s.Outcome.PrunedMacs.EffectiveMacs,
            accuracy_after = s.Outcome.After?.Top1,
            left_dense = s.Outcome.LeftOut.Select(l => new { name = l.Name, reason = l.Reason }).Concat(s.Outcome.Skipped.Select(k => new { name = k.Key, reason = k.Value })),
            distillation = s.Distillation is { } d ? new { loss_before = d.LossBefore, loss_after = d.LossAfter } : null,
        }),
    };

    /// <summary>The sparsity of the weights the stage could prune.</summary>
    static double PrunedSparsity(UnstructuredOutcome o)
    {
        var layers = o.Sparsity.Layers.Where(l => o.Prunable.Contains(l.Name)).ToList();
        long total = layers.Sum(l => l.Parameters);
        return total == 0 ? 0 : 1 - (double)layers.Sum(l => l.NonZeros) / total;
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
            (i + 1).ToString(CultureInfo.InvariantCulture), s.Stage.Method, s.Stage.Granularity, s.Stage.Scope, s.Stage.Schedule,
            PruneCommand.Percent(s.Sparsity), PruneCommand.Percent(PrunedSparsity(s.Outcome)),
            s.Outcome.After is { } a ? PruneCommand.Percent(a.Top1) : "-",
        });
        Table.Write(Console.Out, new[] { "stage", "method", "granularity", "scope", "schedule", "target", "pruned weights", "top-1 after" }, rows);
        Console.WriteLine();
        var last = result.Stages[^1].Outcome;
        if (result.Output is not null) Console.WriteLine($"saved {result.Output}");
        Console.WriteLine($"total params {PruneCommand.Count(last.Sparsity.Parameters)}, non-zeros {PruneCommand.Count(last.Sparsity.NonZeros)}, sparsity {PruneCommand.Percent(last.Sparsity.Sparsity)} (all parameters)");
        Console.WriteLine($"MACs per example: dense {PruneCommand.Count(result.Stages[0].Outcome.DenseMacs.DenseMacs)}, effective {PruneCommand.Count(last.PrunedMacs.EffectiveMacs)}");
        if (result.Before is { } before && result.After is { } after)
            Console.WriteLine($"top-1 accuracy: before {PruneCommand.Percent(before.Top1)}, after {PruneCommand.Percent(after.Top1)}");
        PreprocessingFlags.Print(result.Input);
        Console.WriteLine($"recipe identity {identity}; {result.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
    }
}
