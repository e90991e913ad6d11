using System.CommandLine;
using System.Globalization;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Pruning.Allocation;
using Allocation = PruneSharp.Pruning.Allocation.Allocation;
using PruneSharp.Pruning.AtInit;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// train's pruning-at-initialisation flags: <c>--at-init METHOD --sparsity S</c> prunes the freshly initialised model
/// before the first batch (<see cref="PruningAtInitialization"/>) and training keeps the mask (<see cref="MaskedTraining"/>).
/// </summary>
sealed class AtInitFlags(Option<double?> sparsity)
{
    const string Methods = "snip, iterative-snip, grasp, synflow, magnitude or random";

    public Option<string?> Method { get; } = new("--at-init") { Description = $"Prune at initialisation before training: {Methods} (needs --sparsity); training keeps the mask." };
    /// <summary>The <c>--sparsity</c> option, shared with the other ways train makes a model sparse.</summary>
    public Option<double?> Sparsity { get; } = sparsity;
    public Option<int> Batches { get; } = new("--at-init-batches") { Description = "Training batches the at-init score is computed on (SNIP, GraSP; SynFlow reads only the input shape).", DefaultValueFactory = _ => 1 };
    public Option<int?> Rounds { get; } = new("--at-init-rounds") { Description = "Scoring rounds on the exponential schedule (default: synflow 100, iterative-snip 10, others 1)." };
    public Option<string> Scope { get; } = new("--at-init-scope") { Description = "global (one ranking of all weights, as the papers), local or erk.", DefaultValueFactory = _ => "global" };

    public IEnumerable<Option> All => new Option[] { Method, Batches, Rounds, Scope };

    /// <summary>The method asked for, or null; checks every at-init option before any data is loaded.</summary>
    public AtInitOptions? Options(ParseResult parse, long seed)
    {
        string? method = parse.GetValue(Method);
        double? sparsity = parse.GetValue(Sparsity);
        if (method is null)
        {
            foreach (var option in new Option[] { Batches, Rounds, Scope })
                if (parse.GetResult(option) is { Implicit: false }) throw new ArgumentException($"{option.Name} needs --at-init");
            return null;
        }
        var kind = method.ToLowerInvariant() switch
        {
            "snip" => AtInitMethod.Snip,
            "iterative-snip" => AtInitMethod.IterativeSnip,
            "grasp" => AtInitMethod.Grasp,
            "synflow" => AtInitMethod.SynFlow,
            "magnitude" => AtInitMethod.Magnitude,
            "random" => AtInitMethod.Random,
            _ => throw new ArgumentException($"--at-init '{method}' is not one of {Methods}"),
        };
        if (sparsity is not { } s) throw new ArgumentException("--at-init needs --sparsity");
        return new AtInitOptions
        {
            Method = kind, Sparsity = s, Rounds = parse.GetValue(Rounds), Seed = seed,
            Scope = new PruningScope
            {
                Allocation = parse.GetValue(Scope)!.ToLowerInvariant() switch
                {
                    "global" => Allocation.Global,
                    "local" => Allocation.Local,
                    "erk" => Allocation.Erk,
                    var other => throw new ArgumentException($"--at-init-scope '{other}' is not one of global, local, erk"),
                },
            },
        };
    }

    /// <summary>Refuses the flags for a language model.</summary>
    public void RefuseForText(ParseResult parse)
    {
        if (parse.GetValue(Method) is not null) throw new ArgumentException("--at-init prunes image classifiers; it is not supported for a language model (--data FILE.txt)");
    }

    /// <summary>
    /// Prunes <paramref name="network"/> at its initial weights on the first <c>--at-init-batches</c> batches of
    /// epoch 0 (unaugmented) and returns the masks for training to keep, with the outcome.
    /// </summary>
    public (MaskSet Masks, AtInitResult Result) Prune(ParseResult parse, AtInitOptions options, GraphModule network, IDataset train, TrainerOptions training)
    {
        int count = parse.GetValue(Batches);
        var plan = new BatchPlan(training.BatchSize, Shuffle: true, Seed: training.Seed);
        var batches = plan.Batches(train, 0, augment: false).Take(count).ToList();
        var masks = new MaskSet(network);
        try
        {
            var result = TrainCommand.WithCtrlC(token => PruningAtInitialization.Prune(masks, options, batches, token));
            return (masks, result);
        }
        catch
        {
            masks.Dispose();
            throw;
        }
        finally
        {
            foreach (var batch in batches) batch.Dispose();
        }
    }

    /// <summary>The outcome as JSON.</summary>
    public static object Json(AtInitResult result) => new
    {
        method = Name(result.Method),
        rounds = result.Rounds,
        sparsity = result.Sparsity,
        path_survives = result.Collapse.PathSurvives,
        warnings = result.Collapse.Warnings,
        layers = result.Collapse.Layers.Select(l => new
        {
            name = l.Name, weights = l.Weights, kept = l.Kept, density = l.Density,
            outputs = l.Outputs, live_outputs = l.LiveOutputs, inputs = l.Inputs, live_inputs = l.LiveInputs,
        }),
    };

    /// <summary>The layer-collapse report as a table, then the verdict and any warnings.</summary>
    public static void Print(AtInitResult result)
    {
        Console.WriteLine($"pruned at initialisation by {Name(result.Method)} ({result.Rounds} round{(result.Rounds == 1 ? "" : "s")}) to sparsity {TrainCommand.Percent(result.Sparsity)}:");
        Table.Write(Console.Out, new[] { "layer", "kept", "weights", "density", "live outputs", "live inputs" },
            result.Collapse.Layers.Select(l => (IReadOnlyList<string>)new[]
            {
                l.Name, PruneCommand.Count(l.Kept), PruneCommand.Count(l.Weights), l.Density.ToString("0.####", CultureInfo.InvariantCulture),
                $"{l.LiveOutputs}/{l.Outputs}", $"{l.LiveInputs}/{l.Inputs}",
            }));
        Console.WriteLine(result.Collapse.PathSurvives ? "every layer keeps weights: a path from input to output survives" : "no path from input to output survives");
    }

    /// <summary>Writes the layer-collapse warnings to standard error.</summary>
    public static void Warn(AtInitResult result)
    {
        foreach (string warning in result.Collapse.Warnings) Console.Error.WriteLine($"prunesharp: warning: {warning}");
    }

    static string Name(AtInitMethod method) => method switch
    {
        AtInitMethod.IterativeSnip => "iterative-snip",
        _ => method.ToString().ToLowerInvariant(),
    };
}
