using PruneSharp.Graph;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Allocation;

/// <summary>A parameter the scope leaves dense although it could have been pruned, and why.</summary>
/// <param name="Name">The parameter.</param>
/// <param name="Reason">Why it is left out, with what would prune it.</param>
public sealed record LeftOutWeight(string Name, string Reason);

/// <summary>What a scope selects in a module.</summary>
/// <param name="Prunable">The prunable parameters, in the module's order.</param>
/// <param name="LeftOut">Weights of rank 2 or more left dense by a default (embeddings, first and last layers, non-layer constants), with the reason.</param>
public sealed record ScopeSelection(IReadOnlyList<string> Prunable, IReadOnlyList<LeftOutWeight> LeftOut);

/// <summary>
/// Which parameters are pruned and how the target sparsity is split over them. By default the prunable parameters
/// are the weights of the model's layers (<see cref="LayerWeights"/>: Conv, ConvTranspose, Gemm and MatMul weights of a
/// graph; Conv, Linear and other rank-2+ parameters of a TorchSharp module) of rank 2 or more; biases and normalisation
/// scales (rank 1) are excluded, embedding tables only prunable with <see cref="IncludeEmbeddings"/>, and the first
/// and last layers kept dense with <see cref="KeepFirstAndLast"/>. Name patterns use <c>*</c> (any run of characters,
/// dots included) and <c>?</c> (one character) and match the whole parameter name, e.g. <c>conv1.weight</c> or
/// <c>classifier.*</c>.
/// </summary>
public sealed record PruningScope
{
    /// <summary>How the target is split (default: local).</summary>
    public Allocation Allocation { get; init; } = Allocation.Local;

    /// <summary>
    /// Fixed sparsities for named parameters (exact names). These layers are pruned locally to their own sparsity
    /// and take no part in the global threshold or ERK split of the rest.
    /// </summary>
    public IReadOnlyDictionary<string, double> Overrides { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// If not empty, exactly the parameters matching one of these patterns (of rank <see cref="MinRank"/> or more) are
    /// prunable, whatever their kind: naming an embedding table here prunes it.
    /// </summary>
    public IReadOnlyList<string> Include { get; init; } = Array.Empty<string>();

    /// <summary>Parameters matching one of these patterns are never pruned (e.g. the first conv, the last linear).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = Array.Empty<string>();

    /// <summary>Parameters owned by submodules of these types are never pruned (e.g. <c>typeof(TorchSharp.Modules.BatchNorm2d)</c>).</summary>
    public IReadOnlyList<Type> ExcludeModuleTypes { get; init; } = Array.Empty<Type>();

    /// <summary>Parameters of lower rank are never pruned (default 2: biases and norm scales stay dense).</summary>
    public int MinRank { get; init; } = 2;

    /// <summary>Every pruned layer keeps at least this fraction of its units (layer-collapse guard; default 0).</summary>
    public double MinDensity { get; init; }

    /// <summary>Also prune embedding tables (word, position and token-type embeddings); default: left dense.</summary>
    public bool IncludeEmbeddings { get; init; }

    /// <summary>
    /// Leave the weights of the first layers (those reading the input; a first convolution has a tiny reduction size)
    /// and the last (the classifier) dense. <see cref="FirstAndLastDefault"/> is the default the command line uses.
    /// </summary>
    public bool KeepFirstAndLast { get; init; }

    /// <summary>
    /// Fail on a layer that the granularity cannot split (an N:M group size M that does not divide its reduction size)
    /// instead of leaving it dense and reporting why (<see cref="LayerPruning.Skipped"/>).
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>
    /// The usual choice for the first and last layers: kept dense for N:M (a first convolution's reduction size is
    /// its input channels, 1 or 3) and for unstructured sparsity of 80% or more, as much of the pruning literature
    /// does (the first convolution has few weights and every later activation depends on it; the classifier's
    /// weights are few per class); pruned otherwise.
    /// </summary>
    public static bool FirstAndLastDefault(Granularity.Granularity granularity, double sparsity) =>
        granularity is Granularity.NMGranularity || sparsity >= 0.8;

    /// <summary>The names of the prunable parameters of <paramref name="masks"/>' module, in the module's order.</summary>
    /// <exception cref="PruningException">An override names no parameter, or the selection is empty.</exception>
    public IReadOnlyList<string> Select(MaskSet masks) => Choose(masks).Prunable;

    /// <summary>The prunable parameters of <paramref name="masks"/>' module and the weights a default leaves out.</summary>
    /// <exception cref="PruningException">An override names no parameter, or the selection is empty.</exception>
    public ScopeSelection Choose(MaskSet masks)
    {
        if (!(MinDensity >= 0 && MinDensity <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinDensity), MinDensity, "minimum density must be in [0, 1]");
        foreach (var (name, sparsity) in Overrides)
        {
            masks.Parameter(name);
            if (!(sparsity >= 0 && sparsity < 1))
                throw new ArgumentOutOfRangeException(nameof(Overrides), sparsity, $"override sparsity for '{name}' must be in [0, 1)");
        }
        var layers = LayerWeights.Of(masks.Module);
        var edges = new HashSet<string>(KeepFirstAndLast ? layers.First.Concat(layers.Last) : Array.Empty<string>(), StringComparer.Ordinal);
        var excludedOwners = ExcludedOwners(masks.Module);
        var selected = new List<string>();
        var leftOut = new List<LeftOutWeight>();
        foreach (string name in masks.ParameterNames)
        {
            var parameter = masks.Parameter(name);
            if (!parameter.is_floating_point()) continue;
            if (Overrides.ContainsKey(name)) { selected.Add(name); continue; }
            if (parameter.dim() < MinRank) continue;
            if (Include.Count > 0 && !NamePattern.MatchesAny(Include, name)) continue;
            if (NamePattern.MatchesAny(Exclude, name)) continue;
            int dot = name.LastIndexOf('.');
            if (excludedOwners.Contains(dot < 0 ? "" : name[..dot])) continue;
            if (Include.Count == 0 && LeftOutReason(name, (int)parameter.dim(), layers, edges) is { } reason)
            {
                leftOut.Add(new LeftOutWeight(name, reason));
                continue;
            }
            selected.Add(name);
        }
        if (selected.Count == 0)
            throw new PruningException($"no parameter is prunable under this scope (the model has {MaskSet.Describe(masks.ParameterNames)}" +
                (leftOut.Count > 0 ? $"; left out by default: {string.Join("; ", leftOut.Take(3).Select(l => $"{l.Name}: {l.Reason}"))}" : "") + ")");
        return new ScopeSelection(selected, leftOut);
    }

    string? LeftOutReason(string name, int rank, LayerWeights layers, HashSet<string> edges)
    {
        var layout = layers.Of(name);
        if (layout.Kind == WeightKind.Embedding && !IncludeEmbeddings) return $"{layout.Description}: embeddings are pruned only on request";
        // Rank-1 parameters (biases, scales) are governed by MinRank alone.
        if (layout.Kind == WeightKind.Other && rank >= 2) return $"not a layer's weight ({layout.Description})";
        if (edges.Contains(name)) return layers.First.Contains(name) ? "first layer, kept dense" : "last layer, kept dense";
        return null;
    }

    HashSet<string> ExcludedOwners(nn.Module module)
    {
        var owners = new HashSet<string>();
        if (ExcludeModuleTypes.Count == 0) return owners;
        if (ExcludeModuleTypes.Any(t => t.IsInstanceOfType(module))) owners.Add("");
        foreach (var (name, child) in module.named_modules())
            if (ExcludeModuleTypes.Any(t => t.IsInstanceOfType(child))) owners.Add(name);
        return owners;
    }
}
