using static TorchSharp.torch;

namespace PruneSharp.Pruning.Criteria;

/// <summary>
/// What a criterion may know beyond the weights: per-parameter gradients (e.g. accumulated over calibration batches),
/// per-parameter input activation statistics, and named per-parameter statistics that a collector computed for one
/// criterion (<see cref="Statistic"/>: the Hessian-gradient product of GraSP, SynFlow's scores, accumulated Taylor
/// terms...), each supplied by the caller as a lookup by parameter name. Magnitude-style criteria ignore it.
/// </summary>
public sealed class ScoringContext
{
    readonly Func<string, Tensor?>? _gradients;
    readonly Func<string, Tensor?>? _activations;
    readonly Func<string, string, Tensor?>? _statistics;

    /// <summary>Creates a context with optional gradient, activation and statistic lookups (statistic, parameter) → tensor.</summary>
    public ScoringContext(Func<string, Tensor?>? gradients = null, Func<string, Tensor?>? activations = null,
        Func<string, string, Tensor?>? statistics = null)
    {
        _gradients = gradients;
        _activations = activations;
        _statistics = statistics;
    }

    /// <summary>A context whose only content is the named statistic <paramref name="statistic"/>, one tensor per parameter name.</summary>
    public static ScoringContext OfStatistic(string statistic, IReadOnlyDictionary<string, Tensor> values) =>
        new(statistics: (kind, name) => kind == statistic && values.TryGetValue(name, out var value) ? value : null);

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

    /// <summary>The per-parameter statistic <paramref name="statistic"/> of parameter <paramref name="name"/> (its meaning is the criterion's).</summary>
    /// <exception cref="PruningException">The context holds no such statistic for it.</exception>
    public Tensor Statistic(string statistic, string name) =>
        _statistics?.Invoke(statistic, name) ?? throw new PruningException(
            $"the criterion needs the '{statistic}' statistic of '{name}', but the scoring context has none (collect it on the model first)");
}
