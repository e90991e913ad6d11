using static TorchSharp.torch;

namespace PruneSharp.Graph.Passes;

/// <summary>
/// Narrows <c>Shape(x)</c> whose readers only pick single dimensions (<c>Gather(Shape(x), i)</c> with a constant
/// i ≥ 0, as exporters write <c>x.size(0)</c>) into one <c>Shape(x, start=i, end=i+1)</c> per pick, so that the graph
/// shows which dimensions are read: a transformer reads the batch size of its token stream that way, and the channel
/// analysis must not take it for a read of the channel count. Needs opset 15 (Shape's start and end); the picked
/// value is unchanged (Gather of index 0 of the one-element shape).
/// </summary>
public static class ShapeGathers
{
    /// <summary>Rewrites the Shape nodes whose every reader picks one dimension; returns how many.</summary>
    public static int Apply(Graph graph)
    {
        if (graph.Opset < 15) return 0;
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        int count = 0;
        foreach (var shape in graph.Nodes.Where(n => n.OpType == "Shape" && n.Domain is ("" or "ai.onnx") && n.Attributes.Count == 0).ToList())
        {
            string value = shape.Outputs[0];
            var readers = graph.Nodes.Where(n => n.Inputs.Contains(value)).ToList();
            if (readers.Count == 0 || graphOutputs.Contains(value) || readers.Any(r => PickedDimension(graph, r, value) is null)) continue;
            foreach (var gather in readers)
            {
                long dimension = PickedDimension(graph, gather, value)!.Value;
                string narrowed = $"{value}_dim{dimension}", zero = $"{gather.Outputs[0]}_index";
                if (!graph.Nodes.Any(n => n.Outputs.Contains(narrowed)))
                    graph.Nodes.Insert(graph.Nodes.IndexOf(shape), new Node($"{shape.Name}_dim{dimension}", "Shape", shape.Inputs, new[] { narrowed },
                        new Dictionary<string, AttributeValue> { ["start"] = AttributeValue.FromInt(dimension), ["end"] = AttributeValue.FromInt(dimension + 1) }));
                var index = graph.ConstantValue(gather.Inputs[1])!;
                graph.Initializers[zero] = zeros_like(index);
                graph.Nodes[graph.Nodes.IndexOf(gather)] = new Node(gather.Name, gather.OpType, new[] { narrowed, zero }, gather.Outputs, gather.Attributes, gather.Domain);
            }
            graph.Nodes.Remove(shape);
            count++;
        }
        return count;
    }

    /// <summary>The dimension a Gather picks from a shape (axis 0, a constant single non-negative index), or null.</summary>
    static long? PickedDimension(Graph graph, Node reader, string shape)
    {
        if (reader.OpType != "Gather" || reader.Inputs.Count != 2 || reader.Inputs[0] != shape || reader.Inputs[1] == shape
            || reader.GetInt("axis", 0) != 0 || graph.ConstantValue(reader.Inputs[1]) is not { } index || index.numel() != 1) return null;
        long i = index.to_type(ScalarType.Int64).flatten()[0].item<long>();
        return i >= 0 ? i : null;
    }
}
