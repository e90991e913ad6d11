using PruneSharp.Data;
using PruneSharp.Pruning.Structured;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pipelines;

/// <summary>
/// Reads the names of the structured (channel and head) criteria into group importances, and gives each
/// data-driven one what it observes, for command-line flags and recipes alike.
/// </summary>
public static class StructuredParts
{
    /// <summary>The channel and head criteria by name.</summary>
    public static IReadOnlyList<string> Methods { get; } = new[] { "l1", "l2", "fpgm", "bn-scale", "taylor", "apoz", "fisher", "random" };

    /// <summary>
    /// The criterion <paramref name="method"/>; for heads, norms cover all of a head's weights (its output-projection
    /// rows too). <paramref name="aggregate"/> and <paramref name="includeReaders"/> apply to l1 and l2. Errors name
    /// <paramref name="field"/> (a flag, or a recipe's <c>stages[i].method</c>, whose stage keys then name the others).
    /// </summary>
    public static IGroupImportance Importance(string method, long seed, PruningUnit unit, string aggregate = "sum", bool includeReaders = false, string field = "--method")
    {
        bool flags = field.StartsWith("--", StringComparison.Ordinal);
        string stage = flags ? "" : field[..field.LastIndexOf('.')];
        string aggregateField = flags ? "--aggregate" : $"{stage}.aggregate", readersField = flags ? "--include-readers" : $"{stage}.include_readers";
        var aggregation = aggregate.ToLowerInvariant() switch
        {
            "sum" => GroupAggregation.Sum,
            "mean" => GroupAggregation.Mean,
            "max" => GroupAggregation.Max,
            "first" => GroupAggregation.First,
            _ => throw new ArgumentException($"{aggregateField} '{aggregate}' is not one of sum, mean, max, first"),
        };
        bool magnitude = method.ToLowerInvariant() is "l1" or "l2" or "magnitude";
        if (!magnitude && (aggregation != GroupAggregation.Sum || includeReaders))
            throw new ArgumentException($"{aggregateField} and {readersField} apply to {field} l1 and l2, not '{method}'");
        var norm = new MagnitudeImportance(Aggregation: aggregation, IncludeReads: includeReaders || unit == PruningUnit.Head);
        return method.ToLowerInvariant() switch
        {
            "l1" => norm with { P = 1 },
            "l2" or "magnitude" => norm with { P = 2 },
            "fpgm" => new FpgmImportance(),
            "bn-scale" => new BatchNormScaleImportance(),
            "taylor" => new TaylorImportance(),
            "apoz" => new ApozImportance(),
            "fisher" => new FisherImportance(),
            "random" => new RandomImportance(seed),
            _ => throw new ArgumentException($"{field} '{method}' is not one of {string.Join(", ", Methods)}{(flags ? " for --structured" : "")}"),
        };
    }

    /// <summary>True for the criteria that observe the model on training batches (Taylor, APoZ, Fisher).</summary>
    public static bool NeedsData(IGroupImportance importance) => importance is TaylorImportance or FisherImportance or ApozImportance;

    /// <summary>
    /// What a data-driven criterion observes before each scoring, on 8 training batches of <paramref name="batchSize"/>
    /// (images, or token sequences whose per-token cross-entropy is the loss): gradients for Taylor, activations for
    /// APoZ and Fisher. Null for criteria that score weights.
    /// </summary>
    public static Action<DependencyGraph>? Observer(IGroupImportance importance, IDataset train, int batchSize) => importance switch
    {
        TaylorImportance => g => AccumulateGradients(g.Module, train, batchSize),
        ApozImportance apoz => g => apoz.Observe(g, UnstructuredPruning.ScoringBatches(train, batchSize).Select(b => (IReadOnlyList<Tensor>)new[] { b.Inputs })),
        FisherImportance fisher => g => fisher.Observe(g, UnstructuredPruning.ScoringBatches(train, batchSize).Select(b => ((IReadOnlyList<Tensor>)new[] { b.Inputs }, b.Targets)), PerSampleLoss),
        _ => null,
    };

    /// <summary>Each sample's cross-entropy: [N] from classifier logits [N, C], or summed over the tokens of language-model logits [N, T, V].</summary>
    static Tensor PerSampleLoss(Tensor output, Tensor targets)
    {
        Losses.CheckLogits(output, targets);
        var perEntry = nn.functional.cross_entropy(output.reshape(-1, output.shape[^1]), targets.reshape(-1), reduction: nn.Reduction.None);
        return perEntry.reshape(output.shape[0], -1).sum(dim: 1);
    }

    /// <summary>Gradients of the cross-entropy over the scoring batches, for Taylor importance.</summary>
    static void AccumulateGradients(Graph.GraphModule model, IDataset train, int batchSize)
    {
        model.train();
        model.zero_grad();
        foreach (var batch in UnstructuredPruning.ScoringBatches(train, batchSize))
        {
            using var scope = NewDisposeScope();
            using var _ = batch;
            Losses.CrossEntropy(model.call(batch.Inputs), batch.Targets).backward();
        }
        model.eval();
    }
}
