using PruneSharp.Ops;
using TorchSharp;

namespace PruneSharp.Graph;

/// <summary>
/// The structural checks every model passes before it is written: the graph has outputs and each is produced;
/// every value is produced once and read only where defined, without cycles; an input or value info that shares an
/// initializer's name declares its type; and every attribute of a node whose op the executor knows is one its op
/// family reads (or lists in <see cref="OpFamily.UnreadAttributes"/>), so that a misspelt attribute (<c>dilatiojs</c>)
/// is refused instead of written for ONNX Runtime to reject. Ops of other domains are checked structurally only.
/// </summary>
public static class GraphValidation
{
    /// <summary>Checks <paramref name="graph"/>; <paramref name="source"/> names it in errors (e.g. the file about to be written).</summary>
    /// <exception cref="GraphException">A check fails; the message names the graph, node, value or attribute.</exception>
    public static void Check(Graph graph, string source, OpRegistry? registry = null)
    {
        registry ??= OpRegistry.Default;
        if (graph.Outputs.Count == 0) throw new GraphException($"{source}: the graph has no outputs");
        IReadOnlyList<Node> order;
        try
        {
            order = graph.TopologicalOrder();
        }
        catch (GraphException e)
        {
            throw new GraphException($"{source}: {e.Message}", e);
        }
        foreach (var (name, value) in graph.Initializers)
        {
            var declared = graph.Inputs.FirstOrDefault(i => i.Name == name) ?? graph.ValueInfos.GetValueOrDefault(name);
            var type = value.dtype.ToDataType();
            if (declared is { ElementType: not DataType.Undefined } && declared.ElementType != type)
                throw new GraphException($"{source}: initializer '{name}' holds {type} but is declared {declared.ElementType}");
        }
        var context = new CompileContext(graph.Opset, n => graph.Initializers.GetValueOrDefault(n), n => graph.ValueInfos.GetValueOrDefault(n));
        foreach (var node in order)
        {
            if (node.Attributes.Count == 0) continue;
            OpFamily family;
            try
            {
                family = registry.Find(node, graph.Opset);
            }
            catch (UnsupportedOpException)
            {
                continue; // an op we do not run: its schema is unknown here
            }
            if (UnknownAttribute(node, family, context) is { } unknown)
                throw new GraphException($"{source}: node '{node.Name}' ({node.OpType}) has attribute '{unknown}', which {node.OpType} does not have");
        }
    }

    /// <summary>An attribute of <paramref name="node"/> that compiling it does not read, or null.</summary>
    static string? UnknownAttribute(Node node, OpFamily family, CompileContext context)
    {
        var read = new HashSet<string>(StringComparer.Ordinal);
        node.AttributesRead = read;
        try
        {
            using var scope = torch.NewDisposeScope();
            family.Compile(node, context);
        }
        catch (Exception e) when (e is GraphException or ArgumentException or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            return null; // not compilable alone (an input that is constant only after folding): the reads are incomplete
        }
        finally
        {
            node.AttributesRead = null;
        }
        return node.Attributes.Keys.Order(StringComparer.Ordinal).FirstOrDefault(a => !read.Contains(a) && !family.UnreadAttributes.Contains(a));
    }
}
