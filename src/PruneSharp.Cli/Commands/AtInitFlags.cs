using System.CommandLine;
using System.Globalization;
using PruneSharp.Pipelines;
using PruneSharp.Pruning.AtInit;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// train's pruning-at-initialisation flags: <c>--at-init METHOD --sparsity S</c> prunes the freshly initialised model
/// before the first batch and training keeps the mask (<see cref="TrainingDescription.AtInit"/>); the outcome rendered.
/// </summary>
sealed class AtInitFlags(Option<double?> sparsity)
{
    static readonly string Methods = string.Join(", ", TrainingPipeline.AtInitMethods);

    public Option<string?> Method { get; } = new("--at-init") { Description = $"Prune at initialisation before training: {Methods} (needs --sparsity); training keeps the mask." };
    /// <summary>The <c>--sparsity</c> option, shared with the other ways train makes a model sparse.</summary>
    public Option<double?> Sparsity { get; } = sparsity;
    public Option<int> Batches { get; } = new("--at-init-batches") { Description = "Training batches the at-init score is computed on (SNIP, GraSP; SynFlow reads only the input shape).", DefaultValueFactory = _ => 1 };
    public Option<int?> Rounds { get; } = new("--at-init-rounds") { Description = "Scoring rounds on the exponential schedule (default: synflow 100, iterative-snip 10, others 1)." };
    public Option<string> Scope { get; } = new("--at-init-scope") { Description = "global (one ranking of all weights, as the papers), local or erk.", DefaultValueFactory = _ => "global" };

    public IEnumerable<Option> All => new Option[] { Method, Batches, Rounds, Scope };

    /// <summary>The pruning at initialisation the flags ask for, or null; the flags that need <c>--at-init</c> or go with it are checked here, the values by the library.</summary>
    public AtInitDescription? Description(ParseResult parse)
    {
        string? method = parse.GetValue(Method);
        if (method is null)
        {
            foreach (var option in new Option[] { Batches, Rounds, Scope })
                if (parse.GetResult(option) is { Implicit: false }) throw new ArgumentException($"{option.Name} needs --at-init");
            return null;
        }
        if (parse.GetValue(Sparsity) is not { } sparsity) throw new ArgumentException("--at-init needs --sparsity");
        return new AtInitDescription(method, sparsity, parse.GetValue(Batches), parse.GetValue(Rounds), parse.GetValue(Scope)!);
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

    static string Name(AtInitMethod method) => method switch
    {
        AtInitMethod.IterativeSnip => "iterative-snip",
        _ => method.ToString().ToLowerInvariant(),
    };
}
