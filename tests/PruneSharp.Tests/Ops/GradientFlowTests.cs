using PruneSharp.Graph;
using static PruneSharp.Tests.Ops.OneNode;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class GradientFlowTests
{
    /// <summary>
    /// A weight read through Gather (with a repeated index), a reversing Slice, Expand, Concat and ReduceSum: the
    /// gradient of the sum with respect to each weight element is the number of times the output uses it.
    /// </summary>
    [Fact]
    public void Gradients_count_how_often_shape_ops_use_each_weight()
    {
        var g = new PruneSharp.Graph.Graph { Opset = 17 };
        g.Inputs.Add(new ValueInfo("ids", DataType.Int64, null));
        g.Outputs.Add(new ValueInfo("total", DataType.Float, null));
        g.Initializers["table"] = randn(4, 3);
        g.Initializers["starts"] = Longs(-1);
        g.Initializers["ends"] = Longs(long.MinValue);
        g.Initializers["axes"] = Longs(1);
        g.Initializers["steps"] = Longs(-2);
        g.Initializers["shape"] = Longs(2, 1, 1);
        g.Nodes.Add(new Node("gather", "Gather", new[] { "table", "ids" }, new[] { "rows" }));
        g.Nodes.Add(new Node("slice", "Slice", new[] { "rows", "starts", "ends", "axes", "steps" }, new[] { "picked" }));
        g.Nodes.Add(new Node("expand", "Expand", new[] { "picked", "shape" }, new[] { "wide" }));
        g.Nodes.Add(new Node("concat", "Concat", new[] { "wide", "wide" }, new[] { "joined" }, Attrs(("axis", 0L))));
        g.Nodes.Add(new Node("sum", "ReduceSum", new[] { "joined" }, new[] { "total" }, Attrs(("keepdims", 0L))));
        using var module = new GraphModule(g);
        module.train();
        module.Run(new[] { tensor(new long[] { 2, 0, 2 }) })[0].backward();

        // Columns 2 and 0 (step -2 from the end) of rows 2, 0, 2, each used 2 (expand) x 2 (concat) times.
        var expected = zeros(4, 3);
        foreach (long row in new long[] { 2, 0, 2 })
            foreach (long column in new long[] { 2, 0 })
                expected[row, column] += 4;
        Same(expected, module.get_parameter("table")!.grad!);
    }
}
