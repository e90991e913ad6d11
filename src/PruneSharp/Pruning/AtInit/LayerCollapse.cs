using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.AtInit;

/// <summary>What survives of one masked layer.</summary>
/// <param name="Name">The weight's name.</param>
/// <param name="Weights">Its number of weights.</param>
/// <param name="Kept">Weights its mask keeps.</param>
/// <param name="Outputs">Its output channels (filters, neurons).</param>
/// <param name="LiveOutputs">Output channels that keep at least one weight.</param>
/// <param name="Inputs">Its input channels (features).</param>
/// <param name="LiveInputs">Input channels that at least one kept weight reads.</param>
public sealed record LayerSurvival(string Name, long Weights, long Kept, long Outputs, long LiveOutputs, long Inputs, long LiveInputs)
{
    /// <summary>The fraction of weights kept.</summary>
    public double Density => Weights == 0 ? 0 : (double)Kept / Weights;

    /// <summary>True if no signal passes the layer's weights: no weight kept (every output channel dead).</summary>
    public bool Collapsed => Kept == 0;
}

/// <summary>
/// Layer collapse (Tanaka et al. 2020): a pruning so uneven that some layer keeps no weight, which disconnects the
/// network however many weights survive elsewhere. Per masked layer weight (in the module's parameter order) the
/// surviving weights, output channels (a filter or neuron keeping at least one weight) and input channels; the path
/// from input to output survives when every layer keeps at least one weight, hence at least one live output and
/// input channel. (Whether a live output channel of one layer meets a live input channel of the next is not
/// checked: that needs the graph's wiring, and residual paths make it a property of the whole graph.)
/// </summary>
/// <param name="Layers">The masked layers.</param>
public sealed record LayerCollapseReport(IReadOnlyList<LayerSurvival> Layers)
{
    /// <summary>True if every layer keeps at least one weight.</summary>
    public bool PathSurvives => Layers.All(l => !l.Collapsed);

    /// <summary>One line per emptied layer.</summary>
    public IReadOnlyList<string> Warnings => Layers.Where(l => l.Collapsed)
        .Select(l => $"layer collapse: '{l.Name}' keeps none of its {l.Weights} weights (all {l.Outputs} output channels dead): no path from input to output")
        .ToList();

    /// <summary>Measures the layers masked in <paramref name="masks"/>.</summary>
    public static LayerCollapseReport Measure(MaskSet masks)
    {
        var layouts = LayerWeights.Of(masks.Module);
        var layers = new List<LayerSurvival>();
        using var scope = NewDisposeScope();
        foreach (string name in masks.ParameterNames.Where(masks.Contains))
        {
            var layout = layouts.Of(name);
            var mask = masks.Mask(name);
            if (mask.dim() < 2) continue;
            long kept = mask.count_nonzero().item<long>();
            var (outputs, liveOutputs) = Alive(mask, layout.OutputAxis);
            var (inputs, liveInputs) = Alive(mask, layout.ReductionAxis);
            layers.Add(new LayerSurvival(name, mask.numel(), kept, outputs, liveOutputs, inputs, liveInputs));
        }
        return new LayerCollapseReport(layers);
    }

    static (long Count, long Alive) Alive(Tensor mask, int axis)
    {
        var others = Enumerable.Range(0, (int)mask.dim()).Where(d => d != axis).Select(d => (long)d).ToArray();
        return (mask.shape[axis], mask.to(ScalarType.Int32).sum(others).gt(0).count_nonzero().item<long>());
    }
}
