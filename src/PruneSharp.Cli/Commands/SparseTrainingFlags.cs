using System.CommandLine;
using System.Globalization;
using PruneSharp.Graph;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.DynamicSparsity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Regularization;
using PruneSharp.Pruning.SoftPruning;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// The flags of <c>train</c> that make a model sparse while it trains: a sparsity penalty (<c>--regularize</c>),
/// dynamic sparse training (<c>--sparse-training rigl|set</c>), soft filter pruning and dynamic network surgery.
/// At most one of the last three; the penalty combines with any of them.
/// </summary>
sealed class SparseTrainingFlags(Option<double?> sparsity)
{
    public Option<string?> Regularize { get; } = new("--regularize") { Description = "Add a sparsity penalty to the loss: l1 (weights), group-lasso (filters or channels, see --group) or bn-scale (L1 on BatchNorm scales: network slimming; then prune --structured channel --method bn-scale)." };
    public Option<double?> Penalty { get; } = new("--penalty") { Description = "λ, the penalty's weight (default 1e-4)." };
    public Option<double?> PenaltyWarmup { get; } = new("--penalty-warmup") { Description = "Epochs over which λ rises linearly from 0 to --penalty (default 0: constant)." };
    public Option<string?> Group { get; } = new("--group") { Description = "Group lasso groups: filter (a conv filter or a linear output neuron; default) or channel (an input channel across all filters)." };
    public Option<string?> SparseTraining { get; } = new("--sparse-training") { Description = "Dynamic sparse training at a fixed --sparsity with ERK layer densities: rigl (regrow by gradient magnitude) or set (regrow at random)." };
    /// <summary>The <c>--sparsity</c> option, shared with the other ways train makes a model sparse.</summary>
    public Option<double?> Sparsity { get; } = sparsity;
    public Option<int?> UpdateEvery { get; } = new("--update-every") { Description = "--sparse-training: change the topology every N optimizer steps (default 100)." };
    public Option<double?> DropFraction { get; } = new("--drop-fraction") { Description = "--sparse-training: fraction of active weights dropped and regrown at the first update, cosine-decayed to 0 at 75% of training (default 0.3)." };
    public Option<double?> SoftFilterPruning { get; } = new("--soft-filter-pruning") { Description = "Soft filter pruning: zero this fraction of each layer's filters (smallest L2 norm) at every epoch's end; they keep training and may come back." };
    public Option<bool> NetworkSurgery { get; } = new("--network-surgery") { Description = "Dynamic network surgery to --sparsity: prune below a, splice back above b (thresholds from mean/std of |w| per layer); pruned weights keep training." };
    public Option<double?> SurgeryGamma { get; } = new("--surgery-gamma") { Description = "--network-surgery: γ of the probability (1 + γ·t)^(−power) that the masks are revised after step t (default 1e-4, the paper's; 0: every step)." };
    public Option<double?> SurgeryPower { get; } = new("--surgery-power") { Description = "--network-surgery: the power of that probability (default 1)." };
    public Option<double?> SurgeryStop { get; } = new("--surgery-stop") { Description = "--network-surgery: no mask revision after this many epochs (default: revisions until the end)." };

    public IEnumerable<Option> All => new Option[] { Regularize, Penalty, PenaltyWarmup, Group, SparseTraining, UpdateEvery, DropFraction, SoftFilterPruning, NetworkSurgery, SurgeryGamma, SurgeryPower, SurgeryStop };

    /// <summary>Refuses these flags for a language model run.</summary>
    public void RefuseForText(ParseResult parse)
    {
        if (parse.GetValue(Regularize) is not null || parse.GetValue(SparseTraining) is not null || parse.GetValue(SoftFilterPruning) is not null || parse.GetValue(NetworkSurgery))
            throw new ArgumentException("--regularize, --sparse-training, --soft-filter-pruning and --network-surgery apply to image classifiers, not to a text file");
    }

    /// <summary>
    /// The training callbacks the flags ask for on <paramref name="network"/> (empty when none), checked; the plan
    /// also says what it did once training has run.
    /// </summary>
    public SparseTrainingPlan Plan(ParseResult parse, GraphModule network, TrainerOptions options, int examples)
    {
        string? regularize = parse.GetValue(Regularize)?.ToLowerInvariant();
        string? dynamic = parse.GetValue(SparseTraining)?.ToLowerInvariant();
        double? softRate = parse.GetValue(SoftFilterPruning);
        bool surgery = parse.GetValue(NetworkSurgery);
        double? sparsity = parse.GetValue(Sparsity);
        int methods = (dynamic is null ? 0 : 1) + (softRate is null ? 0 : 1) + (surgery ? 1 : 0);
        if (methods > 1) throw new ArgumentException("--sparse-training, --soft-filter-pruning and --network-surgery exclude each other: choose one");
        if (regularize is null && (parse.GetValue(Penalty) is not null || parse.GetValue(PenaltyWarmup) is not null || parse.GetValue(Group) is not null))
            throw new ArgumentException("--penalty, --penalty-warmup and --group need --regularize l1|group-lasso|bn-scale");
        if (regularize != "group-lasso" && parse.GetValue(Group) is not null)
            throw new ArgumentException("--group applies to --regularize group-lasso");
        if (dynamic is null && (parse.GetValue(UpdateEvery) is not null || parse.GetValue(DropFraction) is not null))
            throw new ArgumentException("--update-every and --drop-fraction need --sparse-training rigl|set");
        if (!surgery && (parse.GetValue(SurgeryGamma) is not null || parse.GetValue(SurgeryPower) is not null || parse.GetValue(SurgeryStop) is not null))
            throw new ArgumentException("--surgery-gamma, --surgery-power and --surgery-stop need --network-surgery");
        if ((dynamic is not null || surgery) && sparsity is null)
            throw new ArgumentException($"{(surgery ? "--network-surgery" : "--sparse-training")} needs --sparsity S (the fraction of weights kept at zero)");

        long batches = (examples + options.BatchSize - 1) / options.BatchSize;
        var plan = new SparseTrainingPlan();
        if (regularize is not null)
        {
            var kind = regularize switch
            {
                "l1" => PenaltyKind.L1,
                "group-lasso" => PenaltyKind.GroupLasso,
                "bn-scale" => PenaltyKind.BatchNormScale,
                _ => throw new ArgumentException($"--regularize '{regularize}' is not one of l1, group-lasso, bn-scale"),
            };
            var group = parse.GetValue(Group)?.ToLowerInvariant() switch
            {
                null or "filter" => LassoGroup.Filter,
                "channel" => LassoGroup.Channel,
                var other => throw new ArgumentException($"--group '{other}' is not filter or channel"),
            };
            double lambda = parse.GetValue(Penalty) ?? 1e-4;
            long warmup = (long)Math.Round((parse.GetValue(PenaltyWarmup) ?? 0) * batches);
            var penalty = Wrap("--regularize", () => SparsityPenalty.For(network, kind, group));
            plan.Regularization = new SparseRegularization(penalty, new PenaltySchedule(lambda, warmup));
            plan.Callbacks.Add(plan.Regularization);
            plan.Description.Add($"penalty {regularize}{(kind == PenaltyKind.GroupLasso ? $" ({group.ToString().ToLowerInvariant()}s)" : "")} λ={Number(lambda)}" +
                $"{(warmup > 0 ? $" after a {warmup}-step warm-up" : "")} on {penalty.Targets.Count} parameters");
        }
        if (dynamic is not null)
        {
            var rule = dynamic switch
            {
                "rigl" => RegrowthRule.Gradient,
                "set" => RegrowthRule.Random,
                _ => throw new ArgumentException($"--sparse-training '{dynamic}' is not rigl or set"),
            };
            var masks = new MaskSet(network);
            var layers = Wrap("--sparse-training", () => new PruningScope().Select(masks));
            var settings = new DynamicSparsityOptions
            {
                Regrowth = rule,
                Sparsity = sparsity!.Value,
                UpdateEvery = parse.GetValue(UpdateEvery) ?? 100,
                DropFraction = parse.GetValue(DropFraction) ?? 0.3,
                TotalSteps = options.Epochs * batches,
                Seed = options.Seed,
            };
            plan.Dynamic = new DynamicSparseTraining(masks, layers, settings);
            plan.Callbacks.Add(plan.Dynamic);
            plan.Description.Add($"{dynamic} at {Percent(sparsity.Value)} sparsity over {layers.Count} layers (ERK), topology update every {settings.UpdateEvery} steps, drop fraction {Number(settings.DropFraction)} cosine-decayed to 0 at step {Math.Floor(settings.EndStep)}");
        }
        if (softRate is { } rate)
        {
            var layers = PruneSharp.Pruning.SoftPruning.SoftFilterPruning.DefaultLayers(network);
            plan.SoftFilters = Wrap("--soft-filter-pruning", () => new PruneSharp.Pruning.SoftPruning.SoftFilterPruning(network, layers, rate));
            plan.Callbacks.Add(plan.SoftFilters);
            plan.Description.Add($"soft filter pruning: {Percent(rate)} of the filters of {layers.Count} layers zeroed at every epoch's end");
        }
        if (surgery)
        {
            using var masks = new MaskSet(network);
            var layers = Wrap("--network-surgery", () => new PruningScope().Select(masks));
            double? stopEpochs = parse.GetValue(SurgeryStop);
            var schedule = new SurgerySchedule
            {
                Gamma = parse.GetValue(SurgeryGamma) ?? 1e-4,
                Power = parse.GetValue(SurgeryPower) ?? 1,
                StopStep = stopEpochs is { } epochs ? Math.Max(1, (long)Math.Round(epochs * batches)) : null,
                Seed = options.Seed,
            };
            plan.Surgery = Wrap("--network-surgery", () => new NetworkSurgery(network, layers, sparsity!.Value, schedule: schedule));
            plan.Callbacks.Add(plan.Surgery);
            long total = options.Epochs * batches;
            plan.Description.Add($"dynamic network surgery towards {Percent(sparsity!.Value)} sparsity over {layers.Count} layers, mask revision after step t with probability (1 + {Number(schedule.Gamma)}·t)^(−{Number(schedule.Power)})" +
                $" ({Percent(schedule.Probability(total))} at the last step{(schedule.StopStep is { } stop ? $", none from step {stop}" : "")})");
        }
        return plan;
    }

    static T Wrap<T>(string flag, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is PruningException or ArgumentOutOfRangeException)
        {
            throw new ArgumentException($"{flag}: {e.Message.Split(" (Parameter")[0]}", e);
        }
    }

    static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    static string Percent(double fraction) => TrainCommand.Percent(fraction);
}

/// <summary>What <see cref="SparseTrainingFlags"/> set up for one training run.</summary>
sealed class SparseTrainingPlan : IDisposable
{
    public List<ITrainingCallback> Callbacks { get; } = new();
    public List<string> Description { get; } = new();
    public SparseRegularization? Regularization { get; set; }
    public DynamicSparseTraining? Dynamic { get; set; }
    public SoftFilterPruning? SoftFilters { get; set; }
    public NetworkSurgery? Surgery { get; set; }

    /// <summary>True if no flag asked for anything.</summary>
    public bool IsEmpty => Callbacks.Count == 0;

    /// <summary>
    /// The zeros of the trained model's layer weights (those any reader of the written ONNX counts): the fraction of
    /// the prunable weights that are zero, and the number of all-zero filters.
    /// </summary>
    public static (double Sparsity, long ZeroFilters, long Filters) Zeros(GraphModule network)
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
            var others = Enumerable.Range(0, (int)weight.dim()).Where(d => d != axis).Select(d => (long)d).ToArray();
            var nonZeroPerFilter = weight.ne(0).sum(others);
            filters += nonZeroPerFilter.numel();
            zeroFilters += nonZeroPerFilter.eq(0).sum().item<long>();
        }
        return (total == 0 ? 0 : zero / (double)total, zeroFilters, filters);
    }

    /// <summary>Prints what was done and the zeros the trained model carries.</summary>
    public void Print(GraphModule network)
    {
        if (IsEmpty) return;
        foreach (string line in Description) Console.WriteLine($"sparse training: {line}");
        if (Dynamic is { } dynamic) Console.WriteLine($"topology updates: {dynamic.Updates}");
        if (Surgery is { } surgery) Console.WriteLine($"surgery mask revisions: {surgery.Revisions}");
        var (sparsity, zeroFilters, filters) = Zeros(network);
        Console.WriteLine($"trained model: {TrainCommand.Percent(sparsity)} of the layer weights are zero, {zeroFilters} of {filters} filters all zero");
    }

    /// <summary>The same as JSON.</summary>
    public object? Json(GraphModule network)
    {
        if (IsEmpty) return null;
        var (sparsity, zeroFilters, filters) = Zeros(network);
        return new { methods = Description, topologyUpdates = Dynamic?.Updates, surgeryRevisions = Surgery?.Revisions, sparsity, zeroFilters, filters };
    }

    public void Dispose()
    {
        Dynamic?.Dispose();
        Dynamic?.Masks.Dispose();
        Surgery?.Dispose();
    }
}
