using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Pipelines;

/// <summary>What a block stage did.</summary>
/// <param name="Blocks">Every removable residual block with its score, and whether it was removed.</param>
/// <param name="BlockParameters">Each block's trainable parameters, in the order of <see cref="Blocks"/>.</param>
/// <param name="DenseParameters">Parameters before.</param>
/// <param name="PrunedParameters">Parameters after.</param>
public sealed record BlockStageResult(IReadOnlyList<ScoredBlock> Blocks, IReadOnlyList<long> BlockParameters, long DenseParameters, long PrunedParameters);

/// <summary>
/// The structured stages of a pipeline: <c>channel</c> and <c>head</c> (coupled channel groups or attention heads
/// removed by <see cref="ChannelPruner"/>, in steps with the recovery between them, optionally refit by least
/// squares) and <c>block</c> (whole residual blocks removed by <see cref="BlockPruner"/>), with their checks.
/// </summary>
public static class StructuredPruning
{
    /// <summary>The kinds of structure a stage removes.</summary>
    public static IReadOnlyList<string> Structures { get; } = new[] { "channel", "head", "block" };

    /// <summary>The block criteria by name (<c>magnitude</c> is read as <c>norm</c>).</summary>
    public static IReadOnlyList<string> BlockMethods { get; } = new[] { "norm", "influence", "random" };

    /// <summary>Training examples blocks are scored on; without data, random inputs of this many sequences of this many tokens.</summary>
    public const int ScoringExamples = 64, RandomExamples = 8, RandomLength = 8;

    /// <summary>The block criterion <paramref name="method"/>.</summary>
    public static IBlockImportance BlockImportance(string method, long seed, string field = "--method") => method.ToLowerInvariant() switch
    {
        "norm" or "magnitude" => new ResidualNormImportance(),
        "influence" => new BlockInfluenceImportance(),
        "random" => new RandomBlockImportance(seed),
        _ => throw new ArgumentException($"{field} '{method}' is not one of {string.Join(", ", BlockMethods)} for structure block"),
    };

    /// <summary>The channel-pruning choices of the channel or head stage <paramref name="s"/>.</summary>
    public static ChannelPruningOptions Options(StageDescription s) => new()
    {
        Unit = s.Structure == "head" ? PruningUnit.Head : PruningUnit.Channel,
        Ratio = s.Ratio!.Value, Global = s.Global, RoundTo = s.RoundTo, MaxRatio = s.MaxRatio, Ignore = s.Ignore ?? Array.Empty<string>(),
        Approximate = s.Approximate, ChannelRatio = s.FfnRatio, ApproximateRatio = s.HiddenRatio, NarrowOutputs = s.HiddenRatio is not null,
    };

    /// <summary>The criterion of the channel or head stage <paramref name="s"/> (errors name the fields under <paramref name="at"/>).</summary>
    public static IGroupImportance Importance(StageDescription s, long seed, string at = "stages[0]") =>
        StructuredParts.Importance(s.Method, seed, s.Structure == "head" ? PruningUnit.Head : PruningUnit.Channel, s.Aggregate ?? "sum", s.IncludeReaders, $"{at}.method");

    /// <summary>
    /// Removes channels or heads of <paramref name="model"/> as the stage <paramref name="s"/> says: traced on
    /// <paramref name="examples"/>, what <paramref name="observer"/> gives for the stage's criterion run before each scoring (data-driven criteria),
    /// <paramref name="recover"/> between steps, the layers that lost inputs refit on <paramref name="calibration"/>.
    /// The result's groups are those worth reporting: all, or for heads the attention layers and the channel groups an
    /// FFN or hidden ratio narrowed.
    /// </summary>
    /// <exception cref="ArgumentException">A head stage on a model without attention heads.</exception>
    public static ChannelPruningResult Channels(GraphModule model, StageDescription s, long seed, IReadOnlyList<Tensor> examples, Action<GraphModule>? recover = null,
        IReadOnlyList<Tensor>? calibration = null, Func<IGroupImportance, Action<DependencyGraph>?>? observer = null, string at = "stages[0]")
    {
        var options = Options(s);
        var importance = Importance(s, seed, at);
        var shown = Shown(model, examples, options, at);
        var result = ChannelPruner.Prune(model, examples, importance, options, s.Steps ?? 1, recover, calibration, observer?.Invoke(importance));
        return result with { Groups = result.Groups.Where(shown).ToList() };
    }

    /// <summary>
    /// <see cref="Channels(GraphModule, StageDescription, long, IReadOnlyList{Tensor}, Action{GraphModule}?, IReadOnlyList{Tensor}?, Func{IGroupImportance, Action{DependencyGraph}?}?, string)"/>
    /// with labelled training data: data-driven criteria observe 8 batches of 64, the calibration is its first examples.
    /// </summary>
    internal static ChannelPruningResult Channels(GraphModule model, StageDescription s, string at, long seed, IDataset? train, IReadOnlyList<Tensor> examples,
        Action<GraphModule>? recover)
    {
        IReadOnlyList<Tensor>? calibration = s.Calibration is > 0 and int n
            ? new[] { train!.GetBatch(Enumerable.Range(0, Math.Min(n, train.Count)).ToArray()).Inputs }
            : null;
        return Channels(model, s, seed, examples, recover, calibration, train is null ? null : importance => StructuredParts.Observer(importance, train, batchSize: 64), at);
    }

    /// <summary>
    /// The groups a head stage reports: the attention layers (none: an error) and the channel groups an FFN or
    /// hidden ratio narrowed; a channel stage reports all.
    /// </summary>
    static Func<GroupChange, bool> Shown(GraphModule model, IReadOnlyList<Tensor> sample, ChannelPruningOptions options, string at)
    {
        if (options.Unit != PruningUnit.Head) return _ => true;
        var layers = AttentionHeads.Find(DependencyGraph.Build(model, sample));
        if (layers.Count == 0) throw new ArgumentException($"{at}.structure head: the model has no attention heads that can be removed (structure channel shows what is left out and why)");
        bool channels = options.ChannelRatio is not null || options.ApproximateRatio is not null;
        return g => layers.Any(l => l.Projections.SequenceEqual(g.Producers)) || (channels && g.After < g.Before);
    }

    /// <summary>
    /// Removes the residual blocks of <paramref name="model"/> that the block stage <paramref name="s"/> selects
    /// (<see cref="StageDescription.Blocks"/>, or <see cref="StageDescription.Ratio"/> of those found), scored on <paramref name="calibration"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no removable block, or fewer than asked for.</exception>
    public static (BlockPruningResult Result, BlockStageResult Stage) Blocks(GraphModule model, StageDescription s, long seed, IReadOnlyList<Tensor> calibration, string at = "stages[0]")
    {
        var importance = BlockImportance(s.Method, seed, $"{at}.method");
        int found = ResidualBlocks.Find(model, calibration.Select(t => t[..1]).ToList()).Count;
        if (found == 0) throw new ArgumentException($"{at}.structure block: the model has no residual block with an identity skip that can be removed");
        int count = s.Blocks ?? (int)Math.Round(s.Ratio!.Value * found);
        if (count > found) throw new ArgumentException($"{at}.blocks {count}: the model has only {found} removable residual blocks");
        var result = BlockPruner.Prune(model, calibration, count, importance);
        var weights = model.Weights();
        var parameters = result.Blocks.Select(b => b.Block.Weights.Where(model.IsParameter).Sum(w => weights[w].numel())).ToList();
        return (result, new BlockStageResult(result.Blocks, parameters, result.DenseParameters, result.PrunedParameters));
    }

    /// <summary>
    /// <see cref="Blocks(GraphModule, StageDescription, long, IReadOnlyList{Tensor}, string)"/> scored on the first 64
    /// examples of <paramref name="train"/>; without data, on 8 random inputs of 8 tokens made from the graph and <paramref name="inputs"/>.
    /// </summary>
    internal static (BlockPruningResult Result, BlockStageResult Stage) Blocks(GraphModule model, StageDescription s, string at, long seed, IDataset? train,
        InputsDescription? inputs)
    {
        IReadOnlyList<Tensor> calibration = train is not null
            ? new[] { train.GetBatch(Enumerable.Range(0, Math.Min(ScoringExamples, train.Count)).ToArray()).Inputs }
            : InputSynthesis.Synthesize(model.Graph, Sources.Synthesis(inputs) with { BatchSize = RandomExamples, SequenceLength = RandomLength }, seed);
        return Blocks(model, s, seed, calibration, at);
    }

    /// <summary>The checks of a structured stage that need neither data nor the model.</summary>
    internal static void Validate(StageDescription s, string at, PipelineDescription d, Action<string, Action, IEnumerable<string>?, string?> check, Action<string, bool, string> require)
    {
        // An unknown structure is reported, and the rest checked as a channel stage, the likely intent.
        if (!Structures.Contains(s.Structure))
            check($"{at}.structure", () => throw new ArgumentException($"{at}.structure '{s.Structure}' is not one of {string.Join(", ", Structures)} (remove the key for unstructured pruning)"),
                Structures, s.Structure);
        foreach (var (key, set) in new[] { ("sparsity", s.Sparsity is not null), ("granularity", s.Granularity != "element"), ("scope", s.Scope != "local"),
            ("schedule", s.Schedule != "oneshot"), ("exclude", s.Exclude is not null), ("first_last", s.FirstLast is not null), ("prune_embeddings", s.PruneEmbeddings), ("strict", s.Strict) })
            require($"{at}.{key}", !set, $"{at}.{key} applies to unstructured stages; a {s.Structure} stage takes {Takes(s.Structure)}");
        if (s.Structure == "block")
        {
            check($"{at}.method", () => BlockImportance(s.Method, d.Seed, $"{at}.method"), BlockMethods, s.Method);
            require($"{at}.blocks", s.Blocks is null or >= 0, $"{at}.blocks must be non-negative, got {s.Blocks}");
            require($"{at}.ratio", s.Blocks is not null ? s.Ratio is null : s.Ratio is >= 0 and <= 1,
                s.Blocks is not null ? $"{at}.ratio and {at}.blocks both say how many blocks go: give one"
                : s.Ratio is null ? $"{at}.ratio or {at}.blocks is required for a block stage" : $"{at}.ratio must be in [0, 1], got {s.Ratio}");
            foreach (var (key, set) in new[] { ("round_to", s.RoundTo != 1), ("max_ratio", s.MaxRatio != 0.9), ("global", s.Global), ("ignore", s.Ignore is not null),
                ("approximate", s.Approximate), ("ffn_ratio", s.FfnRatio is not null), ("hidden_ratio", s.HiddenRatio is not null), ("steps", s.Steps is not null),
                ("calibration", s.Calibration is not null), ("aggregate", s.Aggregate is not null), ("include_readers", s.IncludeReaders) })
                require($"{at}.{key}", !set, $"{at}.{key} does not apply to a block stage, which takes {Takes("block")}");
            return;
        }
        var unit = s.Structure == "head" ? PruningUnit.Head : PruningUnit.Channel;
        check($"{at}.method", () =>
        {
            if (StructuredParts.NeedsData(StructuredParts.Importance(s.Method, d.Seed, unit, field: $"{at}.method")) && d.Data is null)
                throw new ArgumentException($"{at}.method {s.Method} needs data (it observes the model on training batches)");
        }, StructuredParts.Methods, s.Method);
        if (s.Aggregate is not null || s.IncludeReaders)
            check($"{at}.aggregate", () => Importance(s, d.Seed, at), new[] { "sum", "mean", "max", "first" }, s.Aggregate);
        require($"{at}.ratio", s.Ratio is >= 0 and <= 1, s.Ratio is null ? $"{at}.ratio is required for a {s.Structure} stage (the fraction removed)" : $"{at}.ratio must be in [0, 1], got {s.Ratio}");
        require($"{at}.blocks", s.Blocks is null, $"{at}.blocks goes with structure block");
        require($"{at}.round_to", s.RoundTo >= 1, $"{at}.round_to must be at least 1, got {s.RoundTo}");
        require($"{at}.max_ratio", s.MaxRatio is > 0 and <= 1, $"{at}.max_ratio must be in (0, 1], got {s.MaxRatio}");
        require($"{at}.ffn_ratio", s.FfnRatio is null || s.Structure == "head",
            $"{at}.ffn_ratio goes with {at}.structure head (a channel stage prunes the FFN width at {at}.ratio)");
        foreach (var (key, value) in new[] { ("ffn_ratio", s.FfnRatio), ("hidden_ratio", s.HiddenRatio) })
            require($"{at}.{key}", value is null or (>= 0 and < 1), $"{at}.{key} must be in [0, 1), got {value}");
        require($"{at}.hidden_ratio", s.HiddenRatio is null || s.Approximate,
            $"{at}.hidden_ratio needs {at}.approximate: LayerNorm renormalises the hidden channels that stay, so the pruned model only approximates the dense one");
        require($"{at}.hidden_ratio", s.HiddenRatio is null || d.Recovery.Kind != "distill",
            $"{at}.hidden_ratio narrows the outputs, so the student's outputs no longer match the dense teacher's: distillation cannot run on them (prune the hidden size in a later stage without distillation, or leave {at}.hidden_ratio out)");
        require($"{at}.steps", s.Steps is null or >= 1, $"{at}.steps must be at least 1, got {s.Steps}");
        require($"{at}.calibration", s.Calibration is null or >= 0, $"{at}.calibration must be non-negative, got {s.Calibration}");
        require($"{at}.calibration", s.Calibration is null or 0 || d.Data is not null, $"{at}.calibration needs data");
    }

    /// <summary>The keys a structured stage of <paramref name="structure"/> takes, in words.</summary>
    static string Takes(string? structure) => structure == "block" ? "method and ratio or blocks"
        : "ratio, round_to, max_ratio, global, ignore, approximate, hidden_ratio, steps, calibration, aggregate, include_readers" + (structure == "head" ? " and ffn_ratio" : "");
}
