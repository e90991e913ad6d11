using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Pruning;

/// <summary>
/// Criterion × Granularity × Scope: the criterion scores weights, the granularity groups them into units, the scope
/// chooses the prunable parameters and splits the target sparsity, and the <see cref="MaskSet"/> applies the result.
/// Each <see cref="Prune"/> only ranks survivors (pruned units score −∞ and stay pruned), so calling it with a rising
/// target is iterative pruning. Counts are exact: a layer (or the global pool) of n units at sparsity s loses
/// round(s·n) units, rounding half to even; equal scores are removed lowest index first (for global allocation, the
/// index in the concatenation of the layers in the module's parameter order). Every weight is scored and grouped in
/// the layout [output, reduction, other axes] (<see cref="WeightLayout"/>), so N:M groups run along the axis the layer
/// sums over whatever the layout it is stored in; indices count in that layout. A layer that the granularity cannot
/// split is left as it is and reported (<see cref="LayerPruning.Skipped"/>), or refused with <see cref="PruningScope.Strict"/>.
/// </summary>
public sealed class Pruner
{
    /// <summary>Creates a pruner that updates <paramref name="masks"/>.</summary>
    public Pruner(MaskSet masks, Criterion criterion, Granularity.Granularity granularity, PruningScope? scope = null)
    {
        Masks = masks;
        Criterion = criterion;
        Granularity = granularity;
        Scope = scope ?? new PruningScope();
    }

    /// <summary>The masks this pruner updates.</summary>
    public MaskSet Masks { get; }

    /// <summary>How weights are scored.</summary>
    public Criterion Criterion { get; }

    /// <summary>What one unit is.</summary>
    public Granularity.Granularity Granularity { get; }

    /// <summary>Which parameters are pruned and how the target is split.</summary>
    public PruningScope Scope { get; }

    sealed record Layer(string Name, long[] Shape, long Elements, long UnitSize, Tensor UnitScores)
    {
        public long Units => UnitScores.numel();
    }

    /// <summary>Per pruned parameter, the permutation to its [output, reduction, ...] layout (absent: already in it).</summary>
    readonly Dictionary<string, long[]> _canonical = new(StringComparer.Ordinal);

    /// <summary>
    /// Prunes the scope's parameters to <paramref name="sparsity"/> (the fraction of each layer's units, or of the
    /// pool's for global allocation, that is pruned after this step, counting earlier prunings).
    /// For N:M and kernel patterns the sparsity is fixed by the pattern and must be given as such (e.g. 0.5 for 2:4).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The sparsity is not in [0, 1).</exception>
    /// <exception cref="PruningException">The request does not fit the model or the granularity (the message says why).</exception>
    public IReadOnlyList<LayerPruning> Prune(double sparsity, ScoringContext? context = null)
    {
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be in [0, 1)");
        context ??= ScoringContext.None;
        var selected = Scope.Select(Masks);
        var skipped = Unsplittable();
        if (Scope.Strict && skipped.Count > 0)
        {
            var (name, reason) = skipped.First();
            throw new PruningException($"{reason}; leave the layer out (--exclude {name})");
        }
        var names = selected.Where(n => !skipped.ContainsKey(n)).ToList();
        if (names.Count == 0)
            throw new PruningException($"{skipped.Values.First()}; {Granularity.Name} can split none of the selected layers");
        var targets = names.ToDictionary(n => n, n => Scope.Overrides.TryGetValue(n, out double own) ? own : sparsity);
        using (var scope = NewDisposeScope())
        {
            if (Granularity is PatternGranularity pattern) PrunePatterns(pattern, names, sparsity, context);
            else PruneRanked(names, sparsity, context, targets);
        }
        return selected.Select(n => skipped.TryGetValue(n, out string? reason)
            ? new LayerPruning(n, Masks.Parameter(n).numel(), Masks.Kept(n), 0) { Skipped = reason }
            : new LayerPruning(n, Masks.Parameter(n).numel(), Masks.Kept(n), targets[n])).ToList();
    }

    /// <summary>
    /// The scope's layers that the granularity cannot split, with the reason (an N:M group size that does not divide
    /// the reduction size, kernels asked of a linear layer); <see cref="Prune"/> leaves them as they are.
    /// </summary>
    public IReadOnlyDictionary<string, string> Unsplittable()
    {
        var layers = LayerWeights.Of(Masks.Module);
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        _canonical.Clear();
        foreach (string name in Scope.Select(Masks))
        {
            var shape = Masks.Parameter(name).shape;
            var order = layers.Of(name).CanonicalOrder(shape.Length);
            if (order is not null) _canonical[name] = order;
            if (Granularity.CannotSplit(name, order is null ? shape : order.Select(a => shape[a]).ToArray()) is { } reason) skipped[name] = reason;
        }
        return skipped;
    }

    /// <summary>A tensor of <paramref name="name"/>'s shape shown in its [output, reduction, ...] layout.</summary>
    Tensor ToCanonical(string name, Tensor values) => _canonical.TryGetValue(name, out var order) ? values.permute(order) : values;

    /// <summary>The inverse of <see cref="ToCanonical"/>.</summary>
    Tensor FromCanonical(string name, Tensor values)
    {
        if (!_canonical.TryGetValue(name, out var order)) return values;
        var inverse = new long[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        return values.permute(inverse);
    }

    Tensor ElementScores(string name, ScoringContext context)
    {
        var weight = Masks.Parameter(name);
        var scores = Criterion.Score(name, weight, context);
        if (!scores.shape.SequenceEqual(weight.shape))
            throw new PruningException($"criterion '{Criterion.Name}' gave scores of shape [{string.Join(",", scores.shape)}] for '{name}' of shape [{string.Join(",", weight.shape)}]");
        // One reduction instead of an element-wise test: the maximum is NaN if any score is, and +∞ if any is.
        if (!float.IsFinite(scores.max().item<float>()))
            throw new PruningException($"criterion '{Criterion.Name}' gave non-finite scores for '{name}' (NaN or infinite weights or gradients?)");
        return scores.to(ScalarType.Float32);
    }

    void PrunePatterns(PatternGranularity pattern, IReadOnlyList<string> names, double sparsity, ScoringContext context)
    {
        if (Scope.Allocation != Allocation.Allocation.Local)
            throw new PruningException($"{pattern.Name} fixes the density of every group at {pattern.Density:0.###}; it has no global or ERK threshold: use local allocation");
        if (Scope.Overrides.Count > 0)
            throw new PruningException($"{pattern.Name} fixes the density of every group; per-layer sparsity overrides do not apply (exclude the layers instead)");
        if (Math.Abs(sparsity - (1 - pattern.Density)) > 1e-9)
            throw new PruningException($"{pattern.Name} gives sparsity {1 - pattern.Density:0.####}, not the requested {sparsity}");
        var keeps = new List<(string Name, Tensor Keep)>();
        foreach (string name in names)
        {
            var scores = ElementScores(name, context);
            if (Masks.Contains(name)) scores = scores.masked_fill(Masks.Mask(name).logical_not(), float.NegativeInfinity);
            scores = ToCanonical(name, scores);
            var keep = pattern.SelectKeep(pattern.ToUnits(name, scores));
            keeps.Add((name, FromCanonical(name, pattern.FromUnits(keep, scores.shape))));
        }
        foreach (var (name, keep) in keeps) Masks.Prune(name, keep);
    }

    void PruneRanked(IReadOnlyList<string> names, double sparsity, ScoringContext context, Dictionary<string, double> targets)
    {
        var layers = names.Select(n => Score(n, context)).ToList();
        var counts = new Dictionary<string, long>();
        var pool = new List<Layer>();
        foreach (var layer in layers)
        {
            if (Scope.Overrides.TryGetValue(layer.Name, out double own)) counts[layer.Name] = Guarded(layer, ExactSelection.PrunedCount(own, layer.Units));
            else pool.Add(layer);
        }
        if (Scope.Allocation == Allocation.Allocation.Global)
        {
            foreach (var (name, keep) in GlobalKeep(pool, sparsity)) Masks.Prune(name, keep);
        }
        else
        {
            var poolCounts = Scope.Allocation == Allocation.Allocation.Erk ? ErkCounts(pool, sparsity)
                : pool.Select(l => Guarded(l, ExactSelection.PrunedCount(sparsity, l.Units))).ToArray();
            for (int i = 0; i < pool.Count; i++)
            {
                counts[pool[i].Name] = poolCounts[i];
                if (Scope.Allocation == Allocation.Allocation.Erk) targets[pool[i].Name] = (double)poolCounts[i] / pool[i].Units;
            }
        }
        foreach (var layer in layers)
            if (counts.TryGetValue(layer.Name, out long count))
                Masks.Prune(layer.Name, Expand(layer, ExactSelection.KeepAllButLowest(layer.UnitScores, count)));
    }

    Layer Score(string name, ScoringContext context)
    {
        var scores = ToCanonical(name, ElementScores(name, context));
        var shape = scores.shape;
        Tensor? mask = Masks.Contains(name) ? ToCanonical(name, Masks.Mask(name)) : null;
        if (mask is not null) scores = scores.mul(mask);
        var units = Granularity.ToUnits(name, scores);
        long size = units.shape[1];
        var unitScores = size == 1 ? units.reshape(-1) : Criterion.ReduceUnits(units).reshape(-1);
        if (mask is not null)
        {
            var alive = size == 1 ? mask.reshape(-1) : Granularity.ToUnits(name, mask).any(1);
            unitScores = unitScores.masked_fill(alive.logical_not(), float.NegativeInfinity);
        }
        return new Layer(name, shape, shape.Aggregate(1L, (a, b) => a * b), size, unitScores.contiguous());
    }

    /// <summary>A layer's keep-mask in the parameter's own layout from its units' keep flags.</summary>
    Tensor Expand(Layer layer, Tensor unitKeep) => FromCanonical(layer.Name,
        layer.UnitSize == 1 ? unitKeep.reshape(layer.Shape)
            : Granularity.FromUnits(unitKeep.unsqueeze(1).expand(layer.Units, layer.UnitSize), layer.Shape));

    long MinKept(Layer layer) => (long)Math.Ceiling(Scope.MinDensity * layer.Units - 1e-9);

    long Guarded(Layer layer, long pruned) => Math.Min(pruned, layer.Units - MinKept(layer));

    long[] ErkCounts(IReadOnlyList<Layer> pool, double sparsity)
    {
        if (pool.Count == 0) return Array.Empty<long>();
        var densities = ErkAllocation.Densities(pool.Select(l => l.Shape).ToList(), sparsity, Scope.MinDensity);
        // Largest remainder: the layer counts sum to round(Σ real counts) exactly.
        var real = pool.Select((l, i) => (1 - densities[i]) * l.Units).ToArray();
        var counts = real.Select(r => (long)Math.Floor(r)).ToArray();
        long missing = (long)Math.Round(real.Sum(), MidpointRounding.ToEven) - counts.Sum();
        foreach (int i in Enumerable.Range(0, pool.Count).OrderByDescending(i => real[i] - counts[i]).ThenBy(i => i).Take((int)Math.Max(0, missing)))
            counts[i]++;
        return counts.Select((c, i) => Math.Min(c, pool[i].Units)).ToArray();
    }

    IEnumerable<(string Name, Tensor Keep)> GlobalKeep(List<Layer> pool, double sparsity)
    {
        var active = new List<Layer>(pool);
        long remaining = ExactSelection.PrunedCount(sparsity, pool.Sum(l => l.Units));
        var result = new List<(string, Tensor)>();
        while (active.Count > 0)
        {
            long total = active.Sum(l => l.Units);
            if (remaining > total)
                throw new PruningException($"a minimum density of {Scope.MinDensity} per layer keeps more weights than global sparsity {sparsity} allows");
            var parts = ExactSelection.KeepAllButLowestAcross(active.Select(l => l.UnitScores).ToList(), remaining);
            var violators = new List<int>();
            var kept = Scope.MinDensity > 0 ? parts.Select(p => p.count_nonzero().item<long>()).ToArray() : new long[active.Count];
            for (int i = 0; i < active.Count; i++)
                if (kept[i] < MinKept(active[i])) violators.Add(i);
            if (violators.Count == 0)
            {
                for (int i = 0; i < active.Count; i++) result.Add((active[i].Name, Expand(active[i], parts[i])));
                return result;
            }
            // Hold the collapsing layers at the minimum density and share the rest of the budget among the others.
            foreach (int i in violators.OrderByDescending(i => i))
            {
                var layer = active[i];
                long pruned = layer.Units - MinKept(layer);
                result.Add((layer.Name, Expand(layer, ExactSelection.KeepAllButLowest(layer.UnitScores, pruned))));
                remaining -= pruned;
                active.RemoveAt(i);
            }
        }
        if (remaining > 0)
            throw new PruningException($"a minimum density of {Scope.MinDensity} per layer keeps more weights than global sparsity {sparsity} allows");
        return result;
    }
}
