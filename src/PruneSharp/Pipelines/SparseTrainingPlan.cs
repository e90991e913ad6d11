using System.Globalization;
using PruneSharp.Graph;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.DynamicSparsity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Regularization;
using PruneSharp.Pruning.SoftPruning;
using PruneSharp.Training;

namespace PruneSharp.Pipelines;

/// <summary>What the ways of making a model sparse while it trains did.</summary>
/// <param name="Methods">Each method in words (penalty, dynamic sparse training, soft filter pruning, network surgery).</param>
/// <param name="TopologyUpdates">Dynamic sparse training's topology updates (null: not run).</param>
/// <param name="SurgeryRevisions">Network surgery's mask revisions (null: not run).</param>
/// <param name="Sparsity">The fraction of the prunable layer weights of the trained model that are zero.</param>
/// <param name="ZeroFilters">Filters (output units) of those layers that are all zero.</param>
/// <param name="Filters">Filters of those layers.</param>
public sealed record SparseTrainingSummary(IReadOnlyList<string> Methods, int? TopologyUpdates, int? SurgeryRevisions, double Sparsity, long ZeroFilters, long Filters);

/// <summary>
/// The training callbacks of a <see cref="TrainingDescription"/> that make a model sparse while it trains: a sparsity
/// penalty, dynamic sparse training, soft filter pruning or dynamic network surgery; built on the model, summarised after.
/// </summary>
sealed class SparseTrainingPlan : IDisposable
{
    public List<ITrainingCallback> Callbacks { get; } = new();
    readonly List<string> _methods = new();
    DynamicSparseTraining? _dynamic;
    NetworkSurgery? _surgery;

    /// <summary>The callbacks <paramref name="d"/> asks for on <paramref name="network"/>, trained for <paramref name="options"/> over <paramref name="examples"/> examples.</summary>
    public static SparseTrainingPlan Build(TrainingDescription d, GraphModule network, TrainerOptions options, int examples)
    {
        long batches = (examples + options.BatchSize - 1) / options.BatchSize;
        var plan = new SparseTrainingPlan();
        try
        {
            plan.Add(d, network, options, batches);
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    void Add(TrainingDescription d, GraphModule network, TrainerOptions options, long batches)
    {
        if (d.Regularize is { } r)
        {
            var kind = TrainingPipeline.PenaltyKind(r.Kind);
            var group = TrainingPipeline.Group(r.Group);
            long warmup = (long)Math.Round(r.Warmup * batches);
            var penalty = Wrap("training.regularize", () => SparsityPenalty.For(network, kind, group));
            var regularization = new SparseRegularization(penalty, new PenaltySchedule(r.Penalty, warmup));
            Callbacks.Add(regularization);
            _methods.Add($"penalty {r.Kind.ToLowerInvariant()}{(kind == PenaltyKind.GroupLasso ? $" ({group.ToString().ToLowerInvariant()}s)" : "")} λ={Number(r.Penalty)}" +
                $"{(warmup > 0 ? $" after a {warmup}-step warm-up" : "")} on {penalty.Targets.Count} parameters");
        }
        if (d.DynamicSparsity is { } dynamic)
        {
            var masks = new MaskSet(network);
            try
            {
                var layers = Wrap("training.sparse_training", () => new PruningScope().Select(masks));
                var settings = new DynamicSparsityOptions
                {
                    Regrowth = TrainingPipeline.Regrowth(dynamic.Method),
                    Sparsity = dynamic.Sparsity,
                    UpdateEvery = dynamic.UpdateEvery,
                    DropFraction = dynamic.DropFraction,
                    TotalSteps = options.Epochs * batches,
                    Seed = options.Seed,
                };
                _dynamic = Wrap("training.sparse_training", () => new DynamicSparseTraining(masks, layers, settings));
                Callbacks.Add(_dynamic);
                _methods.Add($"{dynamic.Method.ToLowerInvariant()} at {Percent(dynamic.Sparsity)} sparsity over {layers.Count} layers (ERK), topology update every {settings.UpdateEvery} steps, drop fraction {Number(settings.DropFraction)} cosine-decayed to 0 at step {Math.Floor(settings.EndStep)}");
            }
            finally
            {
                if (_dynamic is null) masks.Dispose();
            }
        }
        if (d.SoftFilterPruning is { } rate)
        {
            var layers = SoftFilterPruning.DefaultLayers(network);
            Callbacks.Add(Wrap("training.soft_filter_pruning", () => new SoftFilterPruning(network, layers, rate)));
            _methods.Add($"soft filter pruning: {Percent(rate)} of the filters of {layers.Count} layers zeroed at every epoch's end");
        }
        if (d.Surgery is { } surgery)
        {
            using var masks = new MaskSet(network);
            var layers = Wrap("training.network_surgery", () => new PruningScope().Select(masks));
            var schedule = new SurgerySchedule
            {
                Gamma = surgery.Gamma,
                Power = surgery.Power,
                StopStep = surgery.Stop is { } epochs ? Math.Max(1, (long)Math.Round(epochs * batches)) : null,
                Seed = options.Seed,
            };
            _surgery = Wrap("training.network_surgery", () => new NetworkSurgery(network, layers, surgery.Sparsity, schedule: schedule));
            Callbacks.Add(_surgery);
            long total = options.Epochs * batches;
            _methods.Add($"dynamic network surgery towards {Percent(surgery.Sparsity)} sparsity over {layers.Count} layers, mask revision after step t with probability (1 + {Number(schedule.Gamma)}·t)^(−{Number(schedule.Power)})" +
                $" ({Percent(schedule.Probability(total))} at the last step{(schedule.StopStep is { } stop ? $", none from step {stop}" : "")})");
        }
    }

    /// <summary>What was done and the zeros the trained <paramref name="network"/> carries (null when nothing was asked for).</summary>
    public SparseTrainingSummary? Summary(GraphModule network)
    {
        if (Callbacks.Count == 0) return null;
        var (sparsity, zeroFilters, filters) = Zeros(network);
        return new SparseTrainingSummary(_methods, _dynamic?.Updates, _surgery?.Revisions, sparsity, zeroFilters, filters);
    }

    /// <summary>
    /// The zeros of the trained model's layer weights (those any reader of the written ONNX counts): the fraction of
    /// the prunable weights that are zero, and the number of all-zero filters.
    /// </summary>
    static (double Sparsity, long ZeroFilters, long Filters) Zeros(GraphModule network)
    {
        using var masks = new MaskSet(network);
        var layers = LayerWeights.Of(network);
        long total = 0, zero = 0, filters = 0, zeroFilters = 0;
        foreach (string name in new PruningScope().Select(masks))
        {
            var weight = masks.Parameter(name).detach();
            total += weight.numel();
            zero += weight.numel() - weight.count_nonzero().item<long>();
            int axis = layers.Of(name).OutputAxis;
            var others = Enumerable.Range(0, (int)weight.dim()).Where(dim => dim != axis).Select(dim => (long)dim).ToArray();
            var nonZeroPerFilter = weight.ne(0).sum(others);
            filters += nonZeroPerFilter.numel();
            zeroFilters += nonZeroPerFilter.eq(0).sum().item<long>();
        }
        return (total == 0 ? 0 : zero / (double)total, zeroFilters, filters);
    }

    /// <summary>Runs <paramref name="create"/>, naming <paramref name="field"/> in the error of a request the model does not fit.</summary>
    static T Wrap<T>(string field, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is PruningException or ArgumentOutOfRangeException)
        {
            throw new ArgumentException($"{field}: {e.Message.Split(" (Parameter")[0]}", e);
        }
    }

    static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";

    public void Dispose()
    {
        _dynamic?.Dispose();
        _dynamic?.Masks.Dispose();
        _surgery?.Dispose();
    }
}
