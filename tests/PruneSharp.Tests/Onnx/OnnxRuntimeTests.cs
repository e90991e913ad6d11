using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

/// <summary>Our writer's files load in ONNX Runtime, and our executor agrees with it.</summary>
public class OnnxRuntimeTests
{
    [Fact]
    public void The_written_small_cnn_runs_in_onnx_runtime_with_our_outputs()
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = TestGraphs.SmallCnn();
        OnnxFile.Write(graph, folder.File("cnn.onnx"));
        using var module = new GraphModule(graph);
        module.eval();
        using var runtime = new OnnxRuntimeRunner(folder.File("cnn.onnx"));
        Assert.Equal(new[] { "input" }, runtime.InputNames);
        Assert.Equal(new[] { "logits" }, runtime.OutputNames);
        foreach (int batch in new[] { 1, 3 })
        {
            var x = randn(batch, 3, 8, 8);
            var reference = runtime.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"];
            using (no_grad())
                Assert.True(module.call(x).allclose(reference, 1e-4, 1e-5), $"batch {batch}");
        }
    }

    [Fact]
    public void External_data_written_by_us_loads_in_onnx_runtime()
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = TestGraphs.SmallCnn();
        OnnxFile.Write(graph, folder.File("ext.onnx"), externalDataThreshold: 0);
        using var module = new GraphModule(graph);
        module.eval();
        using var runtime = new OnnxRuntimeRunner(folder.File("ext.onnx"));
        var x = randn(2, 3, 8, 8);
        using (no_grad())
            Assert.True(module.call(x).allclose(runtime.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"], 1e-4, 1e-5));
    }

    [Fact]
    public void Runtime_check_passes_on_a_faithful_model_and_fails_when_a_weight_differs()
    {
        using var folder = new TestGraphs.TempFolder();
        OnnxFile.Write(TestGraphs.SmallCnn(), folder.File("cnn.onnx"));
        var report = RuntimeCheck.Run(folder.File("cnn.onnx"), new RuntimeCheckOptions { Samples = 2, Seed = 5 });
        Assert.True(report.Passed);
        Assert.Equal(new long[] { 1, 3, 8, 8 }, report.InputShapes["input"]); // symbolic batch defaults to 1
        Assert.InRange(report.Outputs.Single().MaxAbsDiff, 0, 1e-4);

        // The same check must notice a wrong result: run our side with a Relu that computes |x| instead.
        var families = BuiltInOps.All().Where(f => !f.OpTypes.Contains("Relu")).Append(new AbsoluteValueAsRelu());
        var shapes = new Dictionary<string, long[]> { ["input"] = new long[] { 4, 3, 8, 8 } };
        var failing = RuntimeCheck.Run(folder.File("cnn.onnx"), new RuntimeCheckOptions { InputShapes = shapes, Registry = new OpRegistry(families) });
        Assert.False(failing.Passed);
        Assert.Equal(new long[] { 4, 5 }, failing.Outputs.Single().Shape);
        Assert.True(failing.Outputs.Single().MaxAbsDiff > 1e-3);
    }

    /// <summary>A deliberately wrong Relu, to show that the check catches a faulty op.</summary>
    sealed class AbsoluteValueAsRelu : OpFamily
    {
        public override IReadOnlyList<string> OpTypes => new[] { "Relu" };
        public override OpKernel Compile(Node node, CompileContext context) => Single(inputs => inputs[0]!.abs());
    }

    [Fact]
    public void Int64_bool_and_double_inputs_round_trip_through_the_runner()
    {
        using var folder = new TestGraphs.TempFolder();
        var g = new PruneSharp.Graph.Graph { Name = "types", Opset = 13 };
        g.Inputs.Add(new ValueInfo("i", DataType.Int64, new[] { (Dim)3 }));
        g.Inputs.Add(new ValueInfo("d", DataType.Double, new[] { (Dim)3 }));
        g.Outputs.Add(new ValueInfo("i2", DataType.Int64, new[] { (Dim)3 }));
        g.Outputs.Add(new ValueInfo("d2", DataType.Double, new[] { (Dim)3 }));
        g.Nodes.Add(new Node("add", "Add", new[] { "i", "i" }, new[] { "i2" }));
        g.Nodes.Add(new Node("mul", "Mul", new[] { "d", "d" }, new[] { "d2" }));
        OnnxFile.Write(g, folder.File("types.onnx"));
        using var runtime = new OnnxRuntimeRunner(folder.File("types.onnx"));
        var outputs = runtime.Run(new Dictionary<string, Tensor> { ["i"] = tensor(new long[] { 1, -2, 40 }), ["d"] = tensor(new[] { 0.5, 2, -3 }) });
        Assert.Equal(new long[] { 2, -4, 80 }, outputs["i2"].data<long>().ToArray());
        Assert.Equal(new[] { 0.25, 4, 9 }, outputs["d2"].data<double>().ToArray());
        Assert.True(RuntimeCheck.Run(folder.File("types.onnx"), new RuntimeCheckOptions { Tolerance = 0 }).Passed);
    }

    [Fact]
    public void A_model_onnx_runtime_refuses_gives_a_graph_exception()
    {
        using var folder = new TestGraphs.TempFolder();
        var g = new PruneSharp.Graph.Graph { Name = "bad", Opset = 13 };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { (Dim)3 }));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { (Dim)3 }));
        g.Nodes.Add(new Node("n", "NoSuchOp", new[] { "x" }, new[] { "y" }));
        OnnxFile.Write(g, folder.File("bad.onnx"));
        Assert.Contains("ONNX Runtime cannot load", Assert.Throws<GraphException>(() => new OnnxRuntimeRunner(folder.File("bad.onnx"))).Message);
    }
}
