using System.CommandLine;
using PruneSharp.Graph;
using PruneSharp.Onnx.Opsets;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>--keep-opset</c>: a model read from an opset older than <see cref="OpsetConversion.Target"/> is upgraded on
/// import and written at that opset by default; with the flag, at its file's own opset where every node can be expressed there.
/// </summary>
sealed class OpsetFlag
{
    public Option<bool> Keep { get; } = new("--keep-opset")
    {
        Description = $"Write the output at the input model's own opset when it is older than {OpsetConversion.Target} (7-10, upgraded on import); " +
                      $"refused, naming the node, where an op cannot be expressed there. Default: opset {OpsetConversion.Target}.",
    };

    /// <summary>Fails before any work when <c>--keep-opset</c> is given and <paramref name="graph"/> cannot go back to its file's opset.</summary>
    public void Validate(ParseResult parse, Graph.Graph graph) => Apply(parse, graph);

    /// <summary><paramref name="graph"/> as it is to be written: at its file's opset with <c>--keep-opset</c>, else as it is.</summary>
    public Graph.Graph Apply(ParseResult parse, Graph.Graph graph)
    {
        if (!parse.GetValue(Keep) || graph.SourceOpset is not int source) return graph;
        try
        {
            return OpsetConversion.Downgrade(graph, source);
        }
        catch (GraphException e)
        {
            throw new GraphException($"--keep-opset: {e.Message}; leave --keep-opset out to write opset {OpsetConversion.Target}", e);
        }
    }
}
