using System.CommandLine;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// The flags of <c>train</c> that make a model sparse while it trains: a sparsity penalty (<c>--regularize</c>),
/// dynamic sparse training (<c>--sparse-training rigl|set</c>), soft filter pruning and dynamic network surgery.
/// At most one of the last three; the penalty combines with any of them. They describe a <see cref="TrainingDescription"/>; the library builds them.
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

    /// <summary>
    /// The description's sparse-training parts the flags ask for (<paramref name="d"/> with them set); the flags that
    /// need another flag are checked here, the values and the combinations by the library.
    /// </summary>
    public TrainingDescription Describe(ParseResult parse, TrainingDescription d)
    {
        string? regularize = parse.GetValue(Regularize), dynamic = parse.GetValue(SparseTraining);
        bool surgery = parse.GetValue(NetworkSurgery);
        double? sparsity = parse.GetValue(Sparsity);
        if (regularize is null && (parse.GetValue(Penalty) is not null || parse.GetValue(PenaltyWarmup) is not null || parse.GetValue(Group) is not null))
            throw new ArgumentException("--penalty, --penalty-warmup and --group need --regularize l1|group-lasso|bn-scale");
        if (dynamic is null && (parse.GetValue(UpdateEvery) is not null || parse.GetValue(DropFraction) is not null))
            throw new ArgumentException("--update-every and --drop-fraction need --sparse-training rigl|set");
        if (!surgery && (parse.GetValue(SurgeryGamma) is not null || parse.GetValue(SurgeryPower) is not null || parse.GetValue(SurgeryStop) is not null))
            throw new ArgumentException("--surgery-gamma, --surgery-power and --surgery-stop need --network-surgery");
        if ((dynamic is not null || surgery) && sparsity is null)
            throw new ArgumentException($"{(surgery ? "--network-surgery" : "--sparse-training")} needs --sparsity S (the fraction of weights kept at zero)");
        var defaults = (Penalty: new RegularizationDescription(""), Dynamic: new DynamicSparsityDescription("", 0), Surgery: new SurgeryDescription(0));
        return d with
        {
            Regularize = regularize is null ? null : new RegularizationDescription(regularize, parse.GetValue(Penalty) ?? defaults.Penalty.Penalty,
                parse.GetValue(PenaltyWarmup) ?? defaults.Penalty.Warmup, parse.GetValue(Group)),
            DynamicSparsity = dynamic is null ? null : new DynamicSparsityDescription(dynamic, sparsity!.Value, parse.GetValue(UpdateEvery) ?? defaults.Dynamic.UpdateEvery,
                parse.GetValue(DropFraction) ?? defaults.Dynamic.DropFraction),
            SoftFilterPruning = parse.GetValue(SoftFilterPruning),
            Surgery = surgery ? new SurgeryDescription(sparsity!.Value, parse.GetValue(SurgeryGamma) ?? defaults.Surgery.Gamma, parse.GetValue(SurgeryPower) ?? defaults.Surgery.Power,
                parse.GetValue(SurgeryStop)) : null,
        };
    }

    /// <summary>Prints what was done and the zeros the trained model carries.</summary>
    public static void Print(SparseTrainingSummary? summary)
    {
        if (summary is null) return;
        foreach (string line in summary.Methods) Console.WriteLine($"sparse training: {line}");
        if (summary.TopologyUpdates is { } updates) Console.WriteLine($"topology updates: {updates}");
        if (summary.SurgeryRevisions is { } revisions) Console.WriteLine($"surgery mask revisions: {revisions}");
        Console.WriteLine($"trained model: {TrainCommand.Percent(summary.Sparsity)} of the layer weights are zero, {summary.ZeroFilters} of {summary.Filters} filters all zero");
    }

    /// <summary>The same as JSON.</summary>
    public static object? Json(SparseTrainingSummary? summary) => summary is null ? null : new
    {
        methods = summary.Methods, topologyUpdates = summary.TopologyUpdates, surgeryRevisions = summary.SurgeryRevisions,
        sparsity = summary.Sparsity, zeroFilters = summary.ZeroFilters, filters = summary.Filters,
    };
}
