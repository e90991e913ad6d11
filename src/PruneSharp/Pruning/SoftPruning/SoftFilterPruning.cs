using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.SoftPruning;

/// <summary>
/// Soft filter pruning (He et al. 2018, "Soft Filter Pruning for Accelerating Deep Convolutional Neural Networks"):
/// at the end of every epoch each pruned layer's round(R·n) filters (output channels) with the smallest L2 norm are
/// set to zero. Nothing is masked: the zeroed filters keep receiving gradients and are updated in the next epoch, so
/// a filter that becomes useful again grows back and another, weaker one is zeroed instead. The last epoch's
/// zeroing stays in the trained weights (the pruning made permanent); whole zero filters are what
/// <c>prune --structured channel</c> then removes physically.
/// </summary>
public sealed class SoftFilterPruning : ITrainingCallback
{
    readonly Dictionary<string, long[]> _zeroed = new(StringComparer.Ordinal);

    /// <summary>Soft-prunes the filters of <paramref name="layers"/> of <paramref name="module"/> at rate <paramref name="rate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not in [0, 1).</exception>
    /// <exception cref="PruningException">No layer is given, or a name is not a layer weight of the module.</exception>
    public SoftFilterPruning(nn.Module module, IReadOnlyList<string> layers, double rate)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "the soft filter pruning rate must be in [0, 1)");
        if (layers.Count == 0) throw new PruningException("soft filter pruning needs at least one layer with filters");
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var layout = LayerWeights.Of(module);
        Layers = layers.Select(n => (n, parameters.TryGetValue(n, out var p) ? p
            : throw new PruningException($"the model has no parameter '{n}'"), layout.Of(n).OutputAxis)).ToList();
        Rate = rate;
    }

    /// <summary>
    /// The default layers: the weights of every convolution and linear layer of <paramref name="module"/> except the
    /// last layers (the classifier's outputs are the classes).
    /// </summary>
    public static IReadOnlyList<string> DefaultLayers(nn.Module module)
    {
        var layout = LayerWeights.Of(module);
        return module.named_parameters()
            .Where(p => p.parameter.dim() >= 2 && layout.Of(p.name).Kind == WeightKind.Layer && !layout.Last.Contains(p.name))
            .Select(p => p.name).ToList();
    }

    /// <summary>The soft-pruned weights with their filter axis.</summary>
    public IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter, int Axis)> Layers { get; }

    /// <summary>R: the fraction of each layer's filters zeroed at every epoch's end.</summary>
    public double Rate { get; }

    /// <summary>The filters zeroed by the last <see cref="ZeroWeakest"/>, by layer (ascending indices).</summary>
    public IReadOnlyDictionary<string, long[]> Zeroed => _zeroed;

    /// <inheritdoc/>
    public void OnEpochEnd(TrainingContext context, EpochSummary summary) => ZeroWeakest();

    /// <summary>Zeroes the round(R·n) filters of smallest L2 norm in every layer (ties: lowest index first).</summary>
    public void ZeroWeakest()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        _zeroed.Clear();
        foreach (var (name, parameter, axis) in Layers)
        {
            long filters = parameter.shape[axis];
            int count = (int)Math.Round(Rate * filters, MidpointRounding.ToEven);
            if (count == 0) { _zeroed[name] = Array.Empty<long>(); continue; }
            var others = Enumerable.Range(0, (int)parameter.dim()).Where(d => d != axis).Select(d => (long)d).ToArray();
            var norms = linalg.vector_norm(parameter.detach().to(float64), 2, others);
            var weakest = norms.sort(stable: true).Indices.narrow(0, 0, count);
            parameter.index_fill_(axis, weakest, 0);
            _zeroed[name] = weakest.sort().Values.contiguous().data<long>().ToArray();
        }
    }
}
