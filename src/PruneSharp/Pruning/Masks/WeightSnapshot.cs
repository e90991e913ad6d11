using static TorchSharp.torch;

namespace PruneSharp.Pruning.Masks;

/// <summary>
/// A copy of a module's parameters and buffers, taken once (e.g. at initialisation or after k steps) and restored
/// later: Lottery Ticket rewinding restores the snapshot and re-applies the masks, so survivors get their early
/// values back and pruned weights stay zero.
/// </summary>
public sealed class WeightSnapshot : IDisposable
{
    readonly Dictionary<string, Tensor> _values;

    WeightSnapshot(Dictionary<string, Tensor> values) => _values = values;

    /// <summary>Copies every parameter and buffer of <paramref name="module"/>.</summary>
    public static WeightSnapshot Capture(nn.Module module)
    {
        using var _ = no_grad();
        var values = new Dictionary<string, Tensor>();
        foreach (var (name, p) in module.named_parameters()) values[name] = p.detach().clone().DetachFromDisposeScope();
        foreach (var (name, b) in module.named_buffers()) values[name] = b.detach().clone().DetachFromDisposeScope();
        return new WeightSnapshot(values);
    }

    /// <summary>Names of the values held.</summary>
    public IReadOnlyCollection<string> Names => _values.Keys;

    /// <summary>The stored value of <paramref name="name"/> (not a copy; do not modify).</summary>
    public Tensor this[string name] => _values.TryGetValue(name, out var t) ? t
        : throw new PruningException($"the snapshot has no value '{name}'");

    /// <summary>
    /// Copies the stored values back into <paramref name="module"/> (which must have the same names and shapes),
    /// then applies <paramref name="masks"/> if given so that pruned weights stay zero.
    /// </summary>
    /// <exception cref="PruningException">A name or shape of the module is not in the snapshot.</exception>
    public void Restore(nn.Module module, MaskSet? masks = null)
    {
        using (no_grad())
        {
            var targets = module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(module.named_buffers().Select(b => (b.name, b.buffer)));
            foreach (var (name, target) in targets)
            {
                if (!_values.TryGetValue(name, out var value))
                    throw new PruningException($"cannot restore '{name}': the snapshot was taken from a model without it");
                if (!value.shape.SequenceEqual(target.shape))
                    throw new PruningException($"cannot restore '{name}': snapshot shape [{string.Join(",", value.shape)}], model shape [{string.Join(",", target.shape)}]");
                target.copy_(value);
            }
        }
        masks?.Apply();
    }

    /// <summary>Disposes the stored copies.</summary>
    public void Dispose()
    {
        foreach (var t in _values.Values) t.Dispose();
        _values.Clear();
    }
}
