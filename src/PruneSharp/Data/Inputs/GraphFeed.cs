using PruneSharp.Recovery;
using static TorchSharp.torch;

namespace PruneSharp.Data.Inputs;

/// <summary>
/// Batches of <see cref="IInputExamples"/> arranged as a graph's inputs, in the graph's input order: the inputs the
/// examples hold are fed as they are (converted to the input's element type), the others synthesised to match them
/// (<see cref="InputSynthesis"/>: a missing attention mask is ones, missing ids index their table). What distillation
/// and fidelity read (<see cref="IInputSource"/>).
/// </summary>
public sealed class GraphFeed : IInputSource
{
    readonly Graph.Graph _graph;
    readonly IInputExamples _examples;
    readonly InputSynthesisOptions _fill;
    readonly long _seed;

    /// <summary>Feeds <paramref name="examples"/> to <paramref name="graph"/>.</summary>
    /// <param name="graph">The model's graph.</param>
    /// <param name="examples">The examples.</param>
    /// <param name="fill">How inputs the examples lack are synthesised (shapes, fallback ranges).</param>
    /// <param name="seed">Seed of synthesised values (each batch seeded by it and its first index).</param>
    /// <exception cref="ArgumentException">The examples hold an input the graph does not take.</exception>
    public GraphFeed(Graph.Graph graph, IInputExamples examples, InputSynthesisOptions? fill = null, long seed = 0)
    {
        var unknown = examples.Names.Where(n => graph.Inputs.All(i => i.Name != n)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"the data holds {string.Join(", ", unknown.Select(n => $"'{n}'"))}, which the model does not take (inputs: {string.Join(", ", graph.Inputs.Select(i => i.Name))})");
        (_graph, _examples, _fill, _seed) = (graph, examples, fill ?? new InputSynthesisOptions(), seed);
    }

    /// <inheritdoc/>
    public int Count => _examples.Count;

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> Inputs(IReadOnlyList<int> indices)
    {
        var given = _examples.Batch(indices);
        using var generator = new Generator((ulong)(_seed + (indices.Count > 0 ? indices[0] : 0)));
        var plans = InputSynthesis.Plan(_graph, _fill with { Given = given, BatchSize = indices.Count });
        return InputSynthesis.Generate(plans, generator);
    }
}
