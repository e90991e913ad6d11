using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Masks;
using PruneSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.DynamicSparsity;

/// <summary>One layer's topology change at an update.</summary>
/// <param name="Name">The weight.</param>
/// <param name="Active">Active weights before and after (they are equal).</param>
/// <param name="Dropped">Connections dropped (the smallest magnitudes among the active).</param>
/// <param name="Grown">Connections grown (as many), counting those dropped and grown back in the same update.</param>
/// <param name="New">The grown connections that were inactive before the update: they start at zero with their optimizer
/// state reset. <paramref name="Grown"/> − <paramref name="New"/> connections were dropped and grown back, and kept their
/// weights and state.</param>
public sealed record TopologyChange(string Name, long Active, long Dropped, long Grown, long New);

/// <summary>
/// Dynamic sparse training at a fixed overall sparsity: SET (Mocanu et al. 2018) and RigL (Evci et al. 2020).
/// The sparse layers start from a random topology whose per-layer densities come from ERK
/// (<see cref="ErkAllocation"/>). Gradients of inactive weights are masked before every optimizer step and the masks
/// re-applied after it; after every ΔT steps (until <see cref="DynamicSparsityOptions.EndFraction"/> of training)
/// each layer drops the fraction f(t) of its active weights with the smallest magnitude and grows the same number
/// among the connections inactive after the drop: at random (SET) or by the largest magnitude of the dense gradient
/// of the batch (RigL; its update replaces that batch's optimizer step, as in the paper's Algorithm 1 and the authors'
/// code, whereas SET takes the step and then updates). A grown connection that was inactive before the update starts at zero with its
/// optimizer state (momentum, Adam moments) zeroed; one dropped and grown back in the same update keeps its weight and
/// state, as in RigL's reference implementation (it never left). The count of active weights per layer never
/// changes. The masks travel in the trainer's checkpoints.
/// </summary>
public sealed class DynamicSparseTraining : ITrainingCallback, IDisposable
{
    const string Prefix = "dynamic-sparsity/";
    readonly Dictionary<string, Tensor> _gradients = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _lastGrown = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _lastNew = new(StringComparer.Ordinal);

    /// <summary>
    /// Sets up dynamic sparse training of <paramref name="layers"/> (parameter names of <paramref name="masks"/>'
    /// module): draws the initial random topology with ERK densities and zeroes the inactive weights.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="PruningException">No layer is given, or a name is not a parameter.</exception>
    public DynamicSparseTraining(MaskSet masks, IReadOnlyList<string> layers, DynamicSparsityOptions options)
    {
        options.Validate();
        if (layers.Count == 0) throw new PruningException("dynamic sparse training needs at least one layer to make sparse");
        Masks = masks;
        Layers = layers;
        Options = options;
        var shapes = layers.Select(n => masks.Parameter(n).shape).ToList();
        Densities = ErkAllocation.Densities(shapes, options.Sparsity);
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)options.Seed * 1_000_003UL + 17);
        for (int i = 0; i < layers.Count; i++)
        {
            var parameter = masks.Parameter(layers[i]);
            long size = parameter.numel(), active = (long)Math.Round(Densities[i] * size, MidpointRounding.ToEven);
            var scores = rand(new long[] { size }, generator: generator, dtype: float32);
            var keep = zeros(size, dtype: ScalarType.Bool);
            if (active > 0) keep.index_fill_(0, scores.topk((int)active).indexes, true);
            masks.Prune(layers[i], keep.reshape(parameter.shape));
        }
    }

    /// <summary>The masks of the sparse layers (the others are not masked).</summary>
    public MaskSet Masks { get; }

    /// <summary>The sparse layers.</summary>
    public IReadOnlyList<string> Layers { get; }

    /// <summary>The settings.</summary>
    public DynamicSparsityOptions Options { get; }

    /// <summary>The ERK density of each layer, in the order of <see cref="Layers"/>.</summary>
    public IReadOnlyList<double> Densities { get; }

    /// <summary>Topology updates done so far in this process.</summary>
    public int Updates { get; private set; }

    /// <summary>The changes of the last update (empty before the first).</summary>
    public IReadOnlyList<TopologyChange> LastChanges { get; private set; } = Array.Empty<TopologyChange>();

    /// <summary>
    /// Where the last update grew connections, by layer (bool, the weight's shape; owned by this object), those
    /// dropped and grown back in the same update included.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> LastGrown => _lastGrown;

    /// <summary>
    /// The connections of <see cref="LastGrown"/> that were inactive before the last update, by layer: they started
    /// at zero with their optimizer state reset.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> LastNew => _lastNew;

    /// <summary>The overall fraction of inactive weights in the sparse layers.</summary>
    public double Sparsity
    {
        get
        {
            long total = Layers.Sum(n => Masks.Parameter(n).numel());
            return 1 - Layers.Sum(n => Masks.Kept(n)) / (double)total;
        }
    }

    /// <inheritdoc/>
    public void OnEpochStart(TrainingContext context) => Masks.Apply();

    /// <inheritdoc/>
    public void OnBeforeOptimizerStep(TrainingContext context)
    {
        if (Options.Regrowth == RegrowthRule.Gradient && Options.IsUpdateStep(context.Position.Step + 1))
        {
            using (no_grad())
                foreach (string name in Layers)
                {
                    var parameter = Masks.Parameter(name);
                    if (parameter.grad is not { } grad) continue;
                    Remember(_gradients, name, grad.abs());
                }
            // RigL's Algorithm 1: an update step changes the topology instead of the weights.
            context.SkipOptimizerStep = true;
        }
        Masks.MaskGradients();
    }

    /// <inheritdoc/>
    public void OnAfterOptimizerStep(TrainingContext context)
    {
        Masks.Apply();
        long step = context.Position.Step;
        if (!Options.IsUpdateStep(step)) return;
        Update(step, context.Optimizer, _gradients);
        foreach (var gradient in _gradients.Values) gradient.Dispose();
        _gradients.Clear();
    }

    /// <summary>
    /// Changes the topology after optimizer step <paramref name="step"/>: per layer, drops round(f(t)·active) of the
    /// smallest-magnitude active weights and grows as many connections among those inactive after the drop (RigL by
    /// <paramref name="gradients"/>' magnitudes, SET at random), zeroing the new ones (inactive before the update) and
    /// their state in <paramref name="optimizer"/>.
    /// </summary>
    /// <exception cref="PruningException">RigL without a gradient for a layer.</exception>
    public IReadOnlyList<TopologyChange> Update(long step, OptimizerHelper? optimizer, IReadOnlyDictionary<string, Tensor>? gradients = null)
    {
        double fraction = Options.DropFractionAt(step);
        var changes = new List<TopologyChange>();
        var updated = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var old in _lastGrown.Values.Concat(_lastNew.Values)) old.Dispose();
        _lastGrown.Clear();
        _lastNew.Clear();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var generator = new Generator((ulong)Options.Seed * 1_000_003UL + (ulong)step);
        foreach (string name in Masks.Names)
        {
            var parameter = Masks.Parameter(name);
            var mask = Masks.Mask(name).flatten();
            updated[name] = mask;
            if (!Layers.Contains(name)) continue;
            long size = mask.numel(), active = mask.count_nonzero().item<long>();
            long k = (long)Math.Round(fraction * active, MidpointRounding.ToEven);
            if (k == 0 || active == size)
            {
                changes.Add(new TopologyChange(name, active, 0, 0, 0));
                continue;
            }
            var weight = parameter.detach().flatten();
            var dropIndex = weight.abs().masked_fill(mask.logical_not(), double.PositiveInfinity).topk((int)k, largest: false).indexes;
            var afterDrop = mask.clone().index_fill_(0, dropIndex, false);
            Tensor growScore;
            if (Options.Regrowth == RegrowthRule.Gradient)
                growScore = gradients is not null && gradients.TryGetValue(name, out var g) ? g.flatten().abs().to(float32)
                    : throw new PruningException($"RigL needs the dense gradient of '{name}' to grow connections");
            else
                growScore = rand(new long[] { size }, generator: generator, dtype: float32);
            var growIndex = growScore.masked_fill(afterDrop, double.NegativeInfinity).topk((int)k).indexes;
            var next = afterDrop.clone().index_fill_(0, growIndex, true);
            var grown = next.logical_and(afterDrop.logical_not()).reshape(parameter.shape);
            var fresh = next.logical_and(mask.logical_not()).reshape(parameter.shape);
            parameter.masked_fill_(fresh, 0);
            if (optimizer is not null) OptimizerMoments.Reset(optimizer, parameter, fresh);
            _lastGrown[name] = grown.clone().DetachFromDisposeScope();
            _lastNew[name] = fresh.clone().DetachFromDisposeScope();
            updated[name] = next;
            changes.Add(new TopologyChange(name, active, k, grown.count_nonzero().item<long>(), fresh.count_nonzero().item<long>()));
        }
        Masks.LoadStateDict(updated.ToDictionary(kv => kv.Key, kv => kv.Value.reshape(Masks.Parameter(kv.Key).shape)));
        Updates++;
        LastChanges = changes;
        return changes;
    }

    /// <inheritdoc/>
    public void SaveState(IDictionary<string, Tensor> extra) => Masks.SaveState(extra, Prefix);

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> extra) => Masks.LoadState(extra, Prefix);

    /// <summary>Disposes the remembered gradients and grown masks (not the mask set).</summary>
    public void Dispose()
    {
        foreach (var t in _gradients.Values.Concat(_lastGrown.Values).Concat(_lastNew.Values)) t.Dispose();
        _gradients.Clear();
        _lastGrown.Clear();
        _lastNew.Clear();
    }

    static void Remember(Dictionary<string, Tensor> store, string name, Tensor value)
    {
        if (store.Remove(name, out var old)) old.Dispose();
        store[name] = value.clone().DetachFromDisposeScope();
    }
}
