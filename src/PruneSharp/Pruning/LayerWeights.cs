using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning;

/// <summary>What a weight is to pruning: a layer's weight, an embedding table, or something else.</summary>
public enum WeightKind
{
    /// <summary>The weight of a convolution or a linear map (Conv, ConvTranspose, Gemm, MatMul; TorchSharp's Conv*d, Linear).</summary>
    Layer,

    /// <summary>An embedding table (Gather of a weight table; TorchSharp's Embedding): pruned only on request.</summary>
    Embedding,

    /// <summary>Any other parameter (biases, normalisation scales, constants).</summary>
    Other,
}

/// <summary>One parameter as pruning sees it.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="OutputAxis">The axis of its output channels or features.</param>
/// <param name="ReductionAxis">The axis its layer sums over (the axis of N:M groups).</param>
/// <param name="Description">What it is, in words, for reports (e.g. <c>Gemm weight</c>, <c>embedding table</c>).</param>
public sealed record WeightLayout(WeightKind Kind, int OutputAxis, int ReductionAxis, string Description)
{
    /// <summary>
    /// The permutation that shows the weight as [output, reduction, other axes in order] (null when it already is),
    /// the layout the granularities work in.
    /// </summary>
    public long[]? CanonicalOrder(int rank)
    {
        if (OutputAxis == 0 && ReductionAxis == 1 || rank < 2) return null;
        return new long[] { OutputAxis, ReductionAxis }.Concat(Enumerable.Range(0, rank).Where(a => a != OutputAxis && a != ReductionAxis).Select(a => (long)a)).ToArray();
    }
}

/// <summary>
/// The layers of a module as pruning sees them: each parameter's <see cref="WeightLayout"/>, and the weights of the
/// first and last layers. A <see cref="GraphModule"/> is read from its graph (<see cref="ParameterRoles"/>: Conv
/// [out, in, kh, kw], ConvTranspose [in, out, kh, kw], Gemm with or without transB, MatMul's [in, out]); other
/// TorchSharp modules from their submodules' types (Conv*d, ConvTranspose*d, Linear, Embedding; any other parameter of
/// rank 2 or more counts as a layer weight laid out [out, in, ...]).
/// </summary>
public sealed class LayerWeights
{
    LayerWeights(Dictionary<string, WeightLayout> layouts, IReadOnlyList<string> first, IReadOnlyList<string> last)
    {
        Layouts = layouts;
        First = first;
        Last = last;
    }

    /// <summary>Every parameter's layout, by name.</summary>
    public IReadOnlyDictionary<string, WeightLayout> Layouts { get; }

    /// <summary>The weights of the first layers (those that read the input with no layer before them).</summary>
    public IReadOnlyList<string> First { get; }

    /// <summary>The weights of the last layers (the classifier, a language model's head).</summary>
    public IReadOnlyList<string> Last { get; }

    /// <summary>The layout of <paramref name="name"/> (<see cref="WeightKind.Other"/> for a constant no node reads).</summary>
    public WeightLayout Of(string name) => Layouts.TryGetValue(name, out var layout) ? layout : new WeightLayout(WeightKind.Other, 0, 1, "unread constant");

    /// <summary>Reads the layers of <paramref name="module"/>.</summary>
    public static LayerWeights Of(nn.Module module)
    {
        if (module is GraphModule graphModule) return OfGraph(graphModule);
        var layouts = new Dictionary<string, WeightLayout>(StringComparer.Ordinal);
        var layers = new List<string>();
        foreach (var (prefix, child) in module.named_modules())
        {
            string weight = prefix.Length == 0 ? "weight" : prefix + ".weight";
            WeightLayout? layout = child switch
            {
                TorchSharp.Modules.ConvTranspose1d or TorchSharp.Modules.ConvTranspose2d or TorchSharp.Modules.ConvTranspose3d => new(WeightKind.Layer, 1, 0, "ConvTranspose weight"),
                TorchSharp.Modules.Conv1d or TorchSharp.Modules.Conv2d or TorchSharp.Modules.Conv3d => new(WeightKind.Layer, 0, 1, "Conv weight"),
                TorchSharp.Modules.Linear => new(WeightKind.Layer, 0, 1, "Linear weight"),
                TorchSharp.Modules.Embedding or TorchSharp.Modules.EmbeddingBag => new(WeightKind.Embedding, 0, 1, "embedding table"),
                _ => null,
            };
            if (layout is null) continue;
            layouts[weight] = layout;
            if (layout.Kind == WeightKind.Layer) layers.Add(weight);
        }
        foreach (var (name, parameter) in module.named_parameters())
            if (!layouts.ContainsKey(name))
                layouts[name] = parameter.dim() >= 2 ? new WeightLayout(WeightKind.Layer, 0, 1, "weight") : new WeightLayout(WeightKind.Other, 0, 1, "bias or scale");
        return new LayerWeights(layouts, layers.Take(1).ToList(), layers.TakeLast(1).ToList());
    }

    static LayerWeights OfGraph(GraphModule module)
    {
        var roles = ParameterRoles.Of(module.Graph);
        var layouts = new Dictionary<string, WeightLayout>(StringComparer.Ordinal);
        foreach (var (name, role) in roles.ByName)
            layouts[name] = role.Kind switch
            {
                ParameterKind.Weight => new WeightLayout(WeightKind.Layer, role.OutputAxis ?? 0, role.ReductionAxis ?? 1, $"{role.OpType} weight"),
                ParameterKind.Embedding => new WeightLayout(WeightKind.Embedding, 0, 1, $"embedding table ({role.OpType})"),
                ParameterKind.InputConstant => new WeightLayout(WeightKind.Other, 0, 1, $"a constant of {role.OpType} on the input path: preprocessing"),
                _ => new WeightLayout(WeightKind.Other, 0, 1, $"{role.Kind.ToString().ToLowerInvariant()} of {role.OpType}"),
            };
        return new LayerWeights(layouts, roles.FirstLayers, roles.LastLayers);
    }
}
