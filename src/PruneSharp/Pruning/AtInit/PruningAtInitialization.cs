using PruneSharp.Data;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Schedules;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.AtInit;

/// <summary>The pruning-at-initialisation methods.</summary>
public enum AtInitMethod
{
    /// <summary>SNIP: |w · ḡ| on the scoring batches, one shot.</summary>
    Snip,

    /// <summary>Iterative SNIP (de Jorge et al. 2021): SNIP rescored on the survivors over rounds.</summary>
    IterativeSnip,

    /// <summary>GraSP: w ⊙ Hg (the paper's −w ⊙ Hg, highest removed), one shot.</summary>
    Grasp,

    /// <summary>SynFlow: data-free synaptic flow, 100 rounds.</summary>
    SynFlow,

    /// <summary>Magnitude of the initial weights (a control).</summary>
    Magnitude,

    /// <summary>Random (a control).</summary>
    Random,
}

/// <summary>Settings of <see cref="PruningAtInitialization.Prune"/>.</summary>
public sealed record AtInitOptions
{
    /// <summary>The method.</summary>
    public AtInitMethod Method { get; init; }

    /// <summary>The sparsity of the scope's weights after the last round, in [0, 1).</summary>
    public double Sparsity { get; init; }

    /// <summary>Rounds of scoring and pruning on the exponential schedule 1 − (1 − s)^(k/R); null: the method's default (<see cref="PruningAtInitialization.DefaultRounds"/>).</summary>
    public int? Rounds { get; init; }

    /// <summary>Which weights are pruned and how the target is split; the papers rank all weights globally.</summary>
    public PruningScope Scope { get; init; } = new() { Allocation = Allocation.Allocation.Global };

    /// <summary>The seed of the random control.</summary>
    public long Seed { get; init; }
}

/// <summary>The outcome of <see cref="PruningAtInitialization.Prune"/>.</summary>
/// <param name="Method">The method run.</param>
/// <param name="Rounds">The rounds run.</param>
/// <param name="Layers">Per pruned parameter, the last round's outcome.</param>
/// <param name="Collapse">What survives of each layer, and whether a path does.</param>
public sealed record AtInitResult(AtInitMethod Method, int Rounds, IReadOnlyList<LayerPruning> Layers, LayerCollapseReport Collapse)
{
    /// <summary>Sparsity of the pruned parameters.</summary>
    public double Sparsity
    {
        get
        {
            long elements = Layers.Sum(l => l.Elements);
            return elements == 0 ? 0 : 1 - (double)Layers.Sum(l => l.Kept) / elements;
        }
    }
}

/// <summary>
/// Pruning at initialisation: score the freshly initialised weights, mask, then train with the mask kept in force
/// (<see cref="Methods.MaskedTraining"/>). Each round applies the masks, lets the criterion observe the model on the
/// scoring batches (<see cref="IObservingCriterion"/>) and prunes to round k's sparsity 1 − (1 − s)^(k/R) (the
/// exponential schedule, <see cref="IterativeSchedule"/>), ranking only survivors; R = 1 is one-shot.
/// </summary>
public static class PruningAtInitialization
{
    /// <summary>The default rounds: 100 for SynFlow (as in the paper), 10 for iterative SNIP, 1 for the others.</summary>
    public static int DefaultRounds(AtInitMethod method) => method switch
    {
        AtInitMethod.SynFlow => 100,
        AtInitMethod.IterativeSnip => 10,
        _ => 1,
    };

    /// <summary>The criterion of <paramref name="method"/>.</summary>
    public static Criterion CriterionFor(AtInitMethod method, long seed) => method switch
    {
        AtInitMethod.Snip or AtInitMethod.IterativeSnip => new SnipCriterion(),
        AtInitMethod.Grasp => new GraspCriterion(),
        AtInitMethod.SynFlow => new SynFlowCriterion(),
        AtInitMethod.Magnitude => new MagnitudeCriterion(),
        AtInitMethod.Random => new RandomCriterion(seed),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown method"),
    };

    /// <summary>
    /// Prunes the module of <paramref name="masks"/> (logits out) at its current weights, unstructured.
    /// </summary>
    /// <param name="masks">The masks to update (their module is the model).</param>
    /// <param name="options">Method, sparsity, rounds and scope.</param>
    /// <param name="batches">The scoring batches (SNIP, GraSP; SynFlow reads only the input shape; magnitude and random none).</param>
    /// <param name="cancellation">Checked between rounds.</param>
    /// <exception cref="ArgumentException">The module does not map one tensor to one tensor, or rounds &lt; 1.</exception>
    /// <exception cref="PruningException">The request does not fit the model or a score could not be computed.</exception>
    public static AtInitResult Prune(MaskSet masks, AtInitOptions options, IReadOnlyList<Batch> batches, CancellationToken cancellation = default)
    {
        if (masks.Module is not nn.Module<Tensor, Tensor> model)
            throw new ArgumentException($"the model ({masks.Module.GetType().Name}) must map one tensor to one tensor");
        int rounds = options.Rounds ?? DefaultRounds(options.Method);
        if (rounds < 1) throw new ArgumentException($"rounds must be at least 1, got {rounds}");
        var criterion = CriterionFor(options.Method, options.Seed);
        var pruner = new Pruner(masks, criterion, new ElementGranularity(), options.Scope);
        var schedule = new IterativeSchedule(options.Sparsity, rounds);
        var parameters = options.Scope.Select(masks);
        IReadOnlyList<LayerPruning> layers = Array.Empty<LayerPruning>();
        for (int round = 1; round <= rounds; round++)
        {
            cancellation.ThrowIfCancellationRequested();
            masks.Apply();
            using var scope = NewDisposeScope();
            var context = criterion is IObservingCriterion observing ? observing.Observe(model, batches, parameters) : ScoringContext.None;
            layers = pruner.Prune(schedule.SparsityAt(round), context);
        }
        return new AtInitResult(options.Method, rounds, layers, LayerCollapseReport.Measure(masks));
    }
}
