using PruneSharp.Ops;

namespace PruneSharp.Graph.Passes;

/// <summary>
/// The load passes that structured pruning needs on an exported graph, in order: weights of their own
/// (<see cref="InitializerCopies"/>), the exporter's decomposed layer normalisation fused into LayerNormalization
/// (<see cref="LayerNormFusion"/>), weights stored as the transpose the graph reads (<see cref="WeightTransposes"/>),
/// shape reads narrowed to the dimensions they pick (<see cref="ShapeGathers"/>), then run-time shape arithmetic folded
/// for the graph's symbolic dimensions (<see cref="ShapeFolding"/>). Each pass keeps the graph's outputs as they were.
/// </summary>
public static class StructuralPasses
{
    /// <summary>Applies the passes to <paramref name="graph"/> in place.</summary>
    public static void Apply(Graph graph, OpRegistry? registry = null)
    {
        InitializerCopies.Materialize(graph);
        LayerNormFusion.Apply(graph);
        WeightTransposes.Materialize(graph);
        ShapeGathers.Apply(graph);
        ShapeFolding.Apply(graph, registry);
    }
}
