using PruneSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Compression;

/// <summary>
/// Trains the centroids of shared-weight layers with the <see cref="Trainer"/> (Han et al., 2016, section 3.3): after
/// backward, each shared weight's gradient is replaced by the sum of the gradients of all weights of its cluster, and
/// pruned weights get gradient zero; so an optimizer step moves every member of a cluster by the same amount, which is
/// the centroid's update (the paper's SGD update of the centroid with the summed gradient). After the step, every
/// member is set to the value of its cluster's first member and pruned weights to zero, so that sharing and sparsity
/// hold exactly whatever the optimizer's arithmetic. Assignments never change; other parameters (biases) train as usual.
/// </summary>
public sealed class CentroidFineTuning : ITrainingCallback, IDisposable
{
    sealed record Bound(SharedLayer Layer, TorchSharp.Modules.Parameter Weight, Tensor Cluster, Tensor Kept, Tensor First, Tensor HasMember) : IDisposable
    {
        public void Dispose()
        {
            Cluster.Dispose();
            Kept.Dispose();
            First.Dispose();
            HasMember.Dispose();
        }
    }

    readonly List<Bound> _layers = new();

    /// <summary>Binds <paramref name="layers"/> to the parameters of <paramref name="module"/> of the same names (create it after moving the module to its device).</summary>
    /// <exception cref="ArgumentException">A layer has no parameter of its name, or the parameter's size differs.</exception>
    public CentroidFineTuning(nn.Module module, IEnumerable<SharedLayer> layers)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var layer in layers)
        {
            if (!parameters.TryGetValue(layer.Name, out var weight))
                throw new ArgumentException($"the model has no trainable parameter '{layer.Name}' to fine-tune");
            if (weight.numel() != layer.Count)
                throw new ArgumentException($"parameter '{layer.Name}' has {weight.numel()} weights, the shared layer {layer.Count}");
            var assignments = layer.Clusters.Assignments;
            var first = Enumerable.Repeat(-1L, layer.Clusters.Centroids.Length).ToArray();
            for (int i = assignments.Length - 1; i >= 0; i--)
                if (assignments[i] != WeightClusters.Pruned) first[assignments[i]] = i;
            var device = weight.device;
            _layers.Add(new Bound(layer, weight,
                tensor(assignments.Select(a => (long)Math.Max(a, 0)).ToArray(), device: device),
                tensor(assignments.Select(a => a != WeightClusters.Pruned).ToArray(), device: device),
                tensor(first.Select(f => Math.Max(f, 0)).ToArray(), device: device),
                tensor(first.Select(f => f >= 0).ToArray(), device: device)));
        }
    }

    /// <summary>Replaces each shared weight's gradient by its cluster's summed gradient (zero for pruned weights).</summary>
    public void OnBeforeOptimizerStep(TrainingContext context)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var bound in _layers)
        {
            if (bound.Weight.grad is not { } grad || bound.Layer.Clusters.Centroids.Length == 0) continue;
            var flat = grad.flatten().where(bound.Kept, 0f);
            var sums = zeros(bound.Layer.Clusters.Centroids.Length, dtype: flat.dtype, device: flat.device).index_add_(0, bound.Cluster, flat, 1);
            grad.copy_(sums.index_select(0, bound.Cluster).where(bound.Kept, 0f).reshape(grad.shape));
        }
    }

    /// <summary>Makes every cluster's members equal again (to its first member) and pruned weights zero.</summary>
    public void OnAfterOptimizerStep(TrainingContext context) => Snap();

    void Snap()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var bound in _layers)
        {
            if (bound.Layer.Clusters.Centroids.Length == 0) continue;
            var centroids = bound.Weight.flatten().index_select(0, bound.First);
            bound.Weight.copy_(centroids.index_select(0, bound.Cluster).where(bound.Kept, 0f).reshape(bound.Weight.shape));
        }
    }

    /// <summary>
    /// The layers with their centroids as trained (read from the weights; a centroid without members keeps its value).
    /// </summary>
    public IReadOnlyList<SharedLayer> Layers()
    {
        var layers = new List<SharedLayer>();
        foreach (var bound in _layers)
        {
            var centroids = (float[])bound.Layer.Clusters.Centroids.Clone();
            if (centroids.Length > 0)
            {
                using var values = bound.Weight.detach().flatten().index_select(0, bound.First).cpu();
                using var has = bound.HasMember.cpu();
                var trained = values.data<float>().ToArray();
                var member = has.data<bool>().ToArray();
                for (int c = 0; c < centroids.Length; c++) if (member[c]) centroids[c] = trained[c];
            }
            layers.Add(bound.Layer with { Clusters = bound.Layer.Clusters with { Centroids = centroids } });
        }
        return layers;
    }

    /// <summary>Releases the index tensors (not the module).</summary>
    public void Dispose()
    {
        foreach (var bound in _layers) bound.Dispose();
        _layers.Clear();
    }
}
