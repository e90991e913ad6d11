using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Sparse;

/// <summary>The compiled plan against ONNX Runtime on pruned LeNets and on random graphs of every op it runs.</summary>
public class CompiledPlanTests
{
    static Dictionary<string, AttributeValue> Ints(params (string Name, long[] Values)[] attributes) =>
        attributes.ToDictionary(a => a.Name, a => AttributeValue.FromInts(a.Values));

    /// <summary>Runs <paramref name="model"/> and ONNX Runtime on the file and compares every output.</summary>
    static void AssertMatchesOnnxRuntime(string path, SparseModel model, Tensor input, string inputName = "input")
    {
        using var scope = NewDisposeScope();
        var outputs = model.Run(new[] { input });
        using var runtime = new OnnxRuntimeRunner(path, threads: 1);
        var reference = runtime.Run(new Dictionary<string, Tensor> { [inputName] = input });
        Assert.Equal(runtime.OutputNames.Count, outputs.Length);
        for (int k = 0; k < outputs.Length; k++)
        {
            var expected = reference[runtime.OutputNames[k]];
            Assert.Equal(expected.shape, outputs[k].shape);
            Assert.True(outputs[k].allclose(expected, 1e-4, 1e-4), $"output {k} at input [{string.Join(",", input.shape)}]: max difference {(outputs[k] - expected).abs().max().item<float>()}");
        }
    }

    [Theory]
    [InlineData("lenet-300-100", KernelSelection.Sparse)]
    [InlineData("lenet-300-100", KernelSelection.Measure)]
    [InlineData("lenet-5", KernelSelection.Sparse)]
    [InlineData("lenet-5", KernelSelection.Measure)]
    public void Pruned_lenets_run_through_the_plan_with_onnx_runtime_outputs(string name, KernelSelection selection)
    {
        using var folder = new PruneSharp.Tests.Onnx.TestGraphs.TempFolder();
        using (var module = name == "lenet-5" ? LeNet.LeNet5(new ClassifierOptions(Seed: 3)) : LeNet.LeNet300100(new ClassifierOptions(Seed: 3)))
            OnnxFile.Write(SparseModelTests.Pruned(module.ToGraph(), 0.9, 7), folder.File("m.onnx"));
        using var model = SparseModel.Load(folder.File("m.onnx"), new SparseModelOptions { Selection = selection, MeasureRounds = 3 });
        Assert.NotNull(model.Plan);
        Assert.Null(model.PlanRefusal);
        foreach (int batch in new[] { 1, 16, 1 })
            AssertMatchesOnnxRuntime(folder.File("m.onnx"), model, randn(batch, 1, 28, 28));
        if (name == "lenet-5") AssertEveryCandidateMatches(folder.File("m.onnx"), model, randn(16, 1, 28, 28));
        Assert.Null(model.Plan!.Refusal);
        var steps = model.Plan.Steps.Select(s => string.Join("+", s.Nodes)).ToList();
        Assert.Equal(name == "lenet-5"
            ? new[] { "conv1+relu1", "pool1", "conv2+relu2", "pool2", "fc1+relu3", "fc2+relu4", "fc3" }
            : new[] { "fc1+relu1", "fc2+relu2", "fc3" }, steps);
        // Every weight layer decided once per batch size, by the plan; imposed sparse means the sparse (direct for convolutions) kernel.
        Assert.All(model.Layers, l =>
        {
            Assert.Equal(2, l.Decisions.Count);
            Assert.All(l.Decisions, d => Assert.True(d.Compiled));
            if (selection == KernelSelection.Sparse)
                Assert.All(l.Decisions, d => Assert.Contains(d.Kernel, l.Node.OpType == "Conv" ? new[] { KernelKind.SparseDirect, l.SparseKind } : new[] { l.SparseKind }));
            else
                Assert.All(l.Decisions, d => Assert.Equal(d.Measurement!.Faster, d.Kernel));
        });
    }

    /// <summary>
    /// conv (strided, dilated, asymmetric pads, bias) → BatchNormalization → LeakyRelu → MaxPool (pads) → conv 3×3 → Relu,
    /// + the pool output (two computed values) → AveragePool (count_include_pad) → Mul by a per-channel constant →
    /// Flatten → MatMul + bias → Sigmoid → Gemm (alpha, beta, transB = 0) → Clip → Reshape → Softmax.
    /// </summary>
    static PruneSharp.Graph.Graph Mixed(int seed, int channels, int height, int width, int filters, double sparsity)
    {
        var rng = new Generator((ulong)seed);
        var g = new PruneSharp.Graph.Graph { Name = "mixed", Opset = 17 };
        g.Inputs.Add(new ValueInfo("input", DataType.Float, new[] { Dim.Named("batch"), (Dim)channels, (Dim)height, (Dim)width }));
        g.Outputs.Add(new ValueInfo("out", DataType.Float, null));
        Tensor R(params long[] shape) => randn(shape, generator: rng);
        int h1 = (height + 2 - 3) / 2 + 1, w1 = width - 1;
        int h3 = (h1 + 2 - 3) / 2 + 1, w3 = (w1 + 2 - 3) / 2 + 1;
        long features = (long)filters * h3 * w3;
        g.Initializers["conv1.weight"] = R(filters, channels, 3, 2);
        g.Initializers["conv1.bias"] = R(filters);
        g.Initializers["bn.scale"] = R(filters);
        g.Initializers["bn.bias"] = R(filters);
        g.Initializers["bn.mean"] = R(filters);
        g.Initializers["bn.var"] = rand(new long[] { filters }, generator: rng) + 0.5;
        g.Initializers["conv2.weight"] = R(filters, filters, 3, 3);
        g.Initializers["scale"] = R(1, filters, 1, 1);
        g.Initializers["fc1.weight"] = R(features, 13);
        g.Initializers["fc1.bias"] = R(13);
        g.Initializers["fc2.weight"] = R(13, 9);
        g.Initializers["fc2.bias"] = R(9);
        g.Initializers["low"] = tensor(-0.5f);
        g.Initializers["high"] = tensor(0.7f);
        g.Initializers["shape"] = tensor(new long[] { -1, 3, 3 });
        void N(string name, string op, string[] inputs, Dictionary<string, AttributeValue>? attributes = null) =>
            g.Nodes.Add(new Node(name, op, inputs, new[] { name }, attributes ?? new()));
        N("conv1", "Conv", new[] { "input", "conv1.weight", "conv1.bias" }, Ints(("pads", new long[] { 0, 1, 2, 0 }), ("strides", new long[] { 2, 1 }), ("dilations", new long[] { 1, 2 })));
        N("bn", "BatchNormalization", new[] { "conv1", "bn.scale", "bn.bias", "bn.mean", "bn.var" });
        N("lrelu", "LeakyRelu", new[] { "bn" }, new() { ["alpha"] = AttributeValue.FromFloat(0.1f) });
        N("pool", "MaxPool", new[] { "lrelu" }, Ints(("kernel_shape", new long[] { 2, 2 }), ("pads", new long[] { 1, 0, 0, 1 })));
        N("conv2", "Conv", new[] { "pool", "conv2.weight" }, Ints(("pads", new long[] { 1, 1, 1, 1 })));
        N("relu", "Relu", new[] { "conv2" });
        N("residual", "Add", new[] { "relu", "pool" });
        N("avg", "AveragePool", new[] { "residual" }, new() { ["kernel_shape"] = AttributeValue.FromInts(new long[] { 3, 3 }), ["strides"] = AttributeValue.FromInts(new long[] { 2, 2 }), ["pads"] = AttributeValue.FromInts(new long[] { 1, 1, 1, 1 }), ["count_include_pad"] = AttributeValue.FromInt(1) });
        N("mul", "Mul", new[] { "scale", "avg" });
        N("flatten", "Flatten", new[] { "mul" });
        N("fc1", "MatMul", new[] { "flatten", "fc1.weight" });
        N("fc1.add", "Add", new[] { "fc1", "fc1.bias" });
        N("sigmoid", "Sigmoid", new[] { "fc1.add" });
        N("fc2", "Gemm", new[] { "sigmoid", "fc2.weight", "fc2.bias" }, new() { ["alpha"] = AttributeValue.FromFloat(0.5f), ["beta"] = AttributeValue.FromFloat(2f) });
        N("clip", "Clip", new[] { "fc2", "low", "high" });
        N("reshape", "Reshape", new[] { "clip", "shape" });
        g.Nodes.Add(new Node("softmax", "Softmax", new[] { "reshape" }, new[] { "out" }));
        foreach (string weight in new[] { "conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight" })
            g.Initializers[weight] = SparseModelTests.Pruned(new PruneSharp.Graph.Graph { Initializers = { ["w"] = g.Initializers[weight] } }, sparsity, (ulong)seed).Initializers["w"];
        return g;
    }

    [Theory]
    [InlineData(1, 3, 11, 9, 5, 0.7)]
    [InlineData(2, 1, 28, 28, 6, 0.9)]
    [InlineData(3, 2, 7, 20, 4, 1.0)]   // every weight zero: every row empty
    [InlineData(4, 4, 16, 5, 3, 0.5)]
    public void Random_graphs_of_every_supported_op_match_onnx_runtime(int seed, int channels, int height, int width, int filters, double sparsity)
    {
        using var folder = new PruneSharp.Tests.Onnx.TestGraphs.TempFolder();
        OnnxFile.Write(Mixed(seed, channels, height, width, filters, sparsity), folder.File("mixed.onnx"));
        foreach (var selection in new[] { KernelSelection.Sparse, KernelSelection.Measure })
        {
            using var model = SparseModel.Load(folder.File("mixed.onnx"), new SparseModelOptions { Selection = selection, MinSparsity = 0.3, MeasureRounds = 2 });
            Assert.NotNull(model.Plan);
            foreach (int batch in new[] { 1, 16 })
                AssertMatchesOnnxRuntime(folder.File("mixed.onnx"), model, randn(batch, channels, height, width));
            Assert.Null(model.Plan!.Refusal);
            var steps = model.Plan.Steps.Select(s => s.ToString()).ToList();
            Assert.StartsWith("conv1+bn+lrelu [", steps[0]);
            Assert.Contains(steps, s => s.StartsWith("fc1+fc1.add+sigmoid ["));
            Assert.Contains(steps, s => s.StartsWith("fc2+clip ["));
            AssertEveryCandidateMatches(folder.File("mixed.onnx"), model, randn(3, channels, height, width));
        }
    }

    /// <summary>Forces each kernel of each step in turn (dense loop, sparse, direct sparse, im2col) and compares again.</summary>
    static void AssertEveryCandidateMatches(string path, SparseModel model, Tensor input)
    {
        using (NewDisposeScope()) model.Run(new[] { input });
        var steps = model.Plan!.CurrentSteps;
        Assert.Contains(steps, s => s.Candidates.Count == 3);
        for (int c = 0; c < 3; c++)
        {
            foreach (var step in steps) step.Chosen = Math.Min(c, step.Candidates.Count - 1);
            AssertMatchesOnnxRuntime(path, model, input);
        }
    }

    [Fact]
    public void An_unsupported_op_leaves_the_graph_to_the_executor_and_names_the_node()
    {
        var b = new GraphBuilder("mlp", seed: 5);
        var x = b.Input("x", null, 12);
        var h = b.Linear(x, 10, "fc1");
        h = b.Gelu(h, "gelu");
        b.Output(b.Linear(h, 4, "fc2"), "y");
        using var built = b.Build();
        var graph = SparseModelTests.Pruned(built.ToGraph(), 0.8, 1);
        using var model = new SparseModel(graph, new SparseModelOptions { Selection = KernelSelection.Sparse });
        Assert.Null(model.Plan);
        Assert.Contains("(Erf) is not one the compiled plan runs", model.PlanRefusal);
        using var dense = new GraphModule(graph);
        using var input = randn(3, 12);
        Tensor expected;
        using (no_grad()) expected = dense.Run(new[] { input })[0];
        Assert.True(model.Run(new[] { input })[0].allclose(expected, 1e-4, 1e-4));
        using var off = new SparseModel(graph, new SparseModelOptions { Compile = false });
        Assert.Null(off.Plan);
        Assert.NotNull(off.PlanRefusal);
    }

    [Fact]
    public void A_shape_the_plan_cannot_take_runs_in_the_executor_with_the_reason()
    {
        var g = new PruneSharp.Graph.Graph { Name = "softmax-axis", Opset = 17 };
        g.Inputs.Add(new ValueInfo("input", DataType.Float, new[] { Dim.Named("batch"), (Dim)4, (Dim)6 }));
        g.Outputs.Add(new ValueInfo("out", DataType.Float, null));
        g.Initializers["w"] = randn(6, 5) * (rand(6, 5) > 0.8);
        g.Nodes.Add(new Node("fc", "MatMul", new[] { "input", "w" }, new[] { "h" }));
        g.Nodes.Add(new Node("softmax", "Softmax", new[] { "h" }, new[] { "out" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(1) }));
        using var folder = new PruneSharp.Tests.Onnx.TestGraphs.TempFolder();
        OnnxFile.Write(g, folder.File("m.onnx"));
        using var model = SparseModel.Load(folder.File("m.onnx"));
        Assert.NotNull(model.Plan);
        AssertMatchesOnnxRuntime(folder.File("m.onnx"), model, randn(2, 4, 6));
        Assert.Contains("node 'softmax' (Softmax): only a softmax over the last axis", model.Plan!.Refusal);
    }
}
