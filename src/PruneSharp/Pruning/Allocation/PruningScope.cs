using System.Text.RegularExpressions;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Allocation;

/// <summary>
/// Which parameters are pruned and how the target sparsity is split over them. By default every parameter of rank 2
/// or more (Linear and Conv weights, embeddings) is prunable, so biases and normalisation scales (rank 1) are
/// excluded. Name patterns use <c>*</c> (any run of characters, dots included) and <c>?</c> (one character) and
/// match the whole parameter name, e.g. <c>conv1.weight</c> or <c>classifier.*</c>.
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

    /// <summary>If not empty, only parameters matching one of these patterns are prunable.</summary>
    public IReadOnlyList<string> Include { get; init; } = Array.Empty<string>();

    /// <summary>Parameters matching one of these patterns are never pruned (e.g. the first conv, the last linear).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = Array.Empty<string>();

    /// <summary>Parameters owned by submodules of these types are never pruned (e.g. <c>typeof(TorchSharp.Modules.BatchNorm2d)</c>).</summary>
    public IReadOnlyList<Type> ExcludeModuleTypes { get; init; } = Array.Empty<Type>();

    /// <summary>Parameters of lower rank are never pruned (default 2: biases and norm scales stay dense).</summary>
    public int MinRank { get; init; } = 2;

    /// <summary>Every pruned layer keeps at least this fraction of its units (layer-collapse guard; default 0).</summary>
    public double MinDensity { get; init; }

    /// <summary>The names of the prunable parameters of <paramref name="masks"/>' module, in the module's order.</summary>
    /// <exception cref="PruningException">An override names no parameter, or the selection is empty.</exception>
    public IReadOnlyList<string> Select(MaskSet masks)
    {
        if (!(MinDensity >= 0 && MinDensity <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinDensity), MinDensity, "minimum density must be in [0, 1]");
        foreach (var (name, sparsity) in Overrides)
        {
            masks.Parameter(name);
            if (!(sparsity >= 0 && sparsity < 1))
                throw new ArgumentOutOfRangeException(nameof(Overrides), sparsity, $"override sparsity for '{name}' must be in [0, 1)");
        }
        var include = Include.Select(Glob).ToList();
        var exclude = Exclude.Select(Glob).ToList();
        var excludedOwners = ExcludedOwners(masks.Module);
        var selected = new List<string>();
        foreach (string name in masks.ParameterNames)
        {
            var parameter = masks.Parameter(name);
            if (!parameter.is_floating_point()) continue;
            if (Overrides.ContainsKey(name)) { selected.Add(name); continue; }
            if (parameter.dim() < MinRank) continue;
            if (include.Count > 0 && !include.Any(r => r.IsMatch(name))) continue;
            if (exclude.Any(r => r.IsMatch(name))) continue;
            int dot = name.LastIndexOf('.');
            if (excludedOwners.Contains(dot < 0 ? "" : name[..dot])) continue;
            selected.Add(name);
        }
        if (selected.Count == 0)
            throw new PruningException($"no parameter is prunable under this scope (the model has {MaskSet.Describe(masks.ParameterNames)})");
        return selected;
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

    static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);
}
