using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// What a criterion may know beyond the weights: per-parameter gradients (e.g. accumulated over calibration batches)
/// and per-parameter input activation statistics, each supplied by the caller as a lookup by parameter name.
/// Magnitude-style criteria ignore it.
/// </summary>
public sealed class ScoringContext
{
    readonly Func<string, Tensor?>? _gradients;
    readonly Func<string, Tensor?>? _activations;

    /// <summary>Creates a context with optional gradient and activation lookups.</summary>
    public ScoringContext(Func<string, Tensor?>? gradients = null, Func<string, Tensor?>? activations = null)
    {
        _gradients = gradients;
        _activations = activations;
    }

    /// <summary>A context with no data: enough for magnitude, Lp and random.</summary>
    public static ScoringContext None { get; } = new();

    /// <summary>A context whose gradients are the parameters' current <c>.grad</c> (run backward on a batch first).</summary>
    public static ScoringContext FromGradients(nn.Module module)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        return new ScoringContext(name => parameters.TryGetValue(name, out var p) ? p.grad : null);
    }

    /// <summary>The gradient of the loss with respect to parameter <paramref name="name"/>.</summary>
    /// <exception cref="PruningException">No gradient is available for it.</exception>
    public Tensor Gradient(string name) =>
        _gradients?.Invoke(name) ?? throw new PruningException(
            $"the criterion needs the gradient of '{name}', but the scoring context has none (run backward on a calibration batch and use ScoringContext.FromGradients)");

    /// <summary>An activation statistic for the layer that owns parameter <paramref name="name"/> (its meaning is the criterion's).</summary>
    /// <exception cref="PruningException">No activation statistic is available for it.</exception>
    public Tensor Activation(string name) =>
        _activations?.Invoke(name) ?? throw new PruningException(
            $"the criterion needs activation statistics for '{name}', but the scoring context has none");
}
