using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>A parameter that training leaves unchanged, and why.</summary>
/// <param name="Name">The parameter.</param>
/// <param name="Reason">Why it is frozen.</param>
public sealed record FrozenParameter(string Name, string Reason);

/// <summary>Which parameters a training run changes.</summary>
/// <param name="Trained">The trained parameters, in the module's order.</param>
/// <param name="Frozen">The others, with the reason.</param>
public sealed record TrainableSelection(IReadOnlyList<string> Trained, IReadOnlyList<FrozenParameter> Frozen);

/// <summary>
/// Which parameters training and fine-tuning may change. By default, the parameters of parameterised ops
/// (<see cref="ParameterRole.IsLayerParameter"/>: Conv, ConvTranspose, Gemm and MatMul weights and biases, attention
/// projections among them; normalisation scales and shifts; embedding tables; PRelu slopes; non-scalar constants of
/// element-wise arithmetic after a layer); a <see cref="GraphModule"/>'s other floating-point initializers stay frozen:
/// constants of arithmetic on the input path (the input normalisation's mean and std), scalars (epsilons, GELU's
/// constants) and shape-like values. Every parameter of a module that is not a <see cref="GraphModule"/> is a layer's.
/// <see cref="TrainOnly"/> replaces the default with name patterns, and <see cref="Freeze"/> removes matches from
/// whatever was selected (patterns as <see cref="NamePattern"/>).
/// </summary>
public sealed record TrainableParameters
{
    /// <summary>If not empty, exactly the parameters matching one of these patterns are trained (less <see cref="Freeze"/>).</summary>
    public IReadOnlyList<string> TrainOnly { get; init; } = Array.Empty<string>();

    /// <summary>Parameters matching one of these patterns are never trained.</summary>
    public IReadOnlyList<string> Freeze { get; init; } = Array.Empty<string>();

    /// <summary>Splits <paramref name="model"/>'s parameters into trained and frozen.</summary>
    /// <exception cref="ArgumentException">A pattern of <see cref="TrainOnly"/> or <see cref="Freeze"/> matches no parameter.</exception>
    public TrainableSelection Select(nn.Module model)
    {
        var names = model.named_parameters().Select(p => p.name).ToList();
        foreach (var (flag, patterns) in new[] { ("train-only", TrainOnly), ("freeze", Freeze) })
            foreach (string pattern in patterns)
                if (!names.Any(n => NamePattern.MatchesAny(new[] { pattern }, n)))
                    throw new ArgumentException($"--{flag} '{pattern}' matches no parameter of the model (it has {Describe(names)})");
        var roles = model is GraphModule graph ? ParameterRoles.Of(graph.Graph).ByName : null;
        var trained = new List<string>();
        var frozen = new List<FrozenParameter>();
        foreach (string name in names)
        {
            string? reason = NamePattern.MatchesAny(Freeze, name) ? "matches --freeze"
                : TrainOnly.Count > 0 ? (NamePattern.MatchesAny(TrainOnly, name) ? null : "not matched by --train-only")
                : roles is null ? null
                : !roles.TryGetValue(name, out var role) ? "read by no node"
                : role.IsLayerParameter ? null
                : role.Kind == ParameterKind.InputConstant ? $"a constant of {role.OpType} on the input path (preprocessing)"
                : $"not a layer's parameter (a constant of {role.OpType})";
            if (reason is null) trained.Add(name);
            else frozen.Add(new FrozenParameter(name, reason));
        }
        return new TrainableSelection(trained, frozen);
    }

    /// <summary>A few names of a list and how many more there are.</summary>
    public static string Describe(IReadOnlyList<string> names, int shown = 6) =>
        names.Count <= shown ? string.Join(", ", names) : $"{string.Join(", ", names.Take(shown))} and {names.Count - shown} more";
}
