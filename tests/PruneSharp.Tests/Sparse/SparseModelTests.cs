using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Sparse;

/// <summary>A model run with sparse kernels gives the dense executor's and ONNX Runtime's outputs.</summary>
public class SparseModelTests
{
    /// <summary>Zeros the given fraction of every weight matrix or filter bank of <paramref name="graph"/> at random places.</summary>
    internal static PruneSharp.Graph.Graph Pruned(PruneSharp.Graph.Graph graph, double sparsity, ulong seed)
    {
        var generator = new Generator(seed);
        foreach (var (name, value) in graph.Initializers.ToList())
        {
            if (value.dim() < 2) continue;
            using var keep = rand(value.shape, generator: generator) >= sparsity;
            graph.Initializers[name] = value * keep;
        }
        return graph;
    }

    static PruneSharp.Graph.Graph PrunedLeNet5(double sparsity)
    {
        using var module = LeNet.LeNet5(new ClassifierOptions(Seed: 3));
        return Pruned(module.ToGraph(), sparsity, 7);
    }

    static void AssertSameOutputs(PruneSharp.Graph.Graph graph, SparseModel sparse, Tensor input)
    {
        using var dense = new GraphModule(graph);
        dense.eval();
        using var scope = NewDisposeScope();
        Tensor expected;
        using (no_grad()) expected = dense.Run(new[] { input })[0];
        var actual = sparse.Run(new[] { input })[0];
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.allclose(expected, 1e-4, 1e-4), $"max difference {(actual - expected).abs().max().item<float>()} at input [{string.Join(",", input.shape)}]");
    }

    [Theory]
    [InlineData(0.8)]
    [InlineData(0.9)]
    public void Pruned_lenet5_runs_every_layer_sparse_with_the_dense_outputs(double sparsity)
    {
        var graph = PrunedLeNet5(sparsity);
        // The executor with sparse layers (the compiled plan is CompiledPlanTests' subject).
        using var model = new SparseModel(graph, new SparseModelOptions { Selection = KernelSelection.Sparse, Threads = 2, Compile = false });
        Assert.Equal(new[] { "Conv", "Conv", "Gemm", "Gemm", "Gemm" }, model.Layers.Select(l => l.Node.OpType));
        Assert.All(model.Layers, l => Assert.InRange(l.Sparsity, sparsity - 0.1, sparsity + 0.07));
        foreach (int batch in new[] { 1, 5 })
            AssertSameOutputs(graph, model, randn(batch, 1, 28, 28));
        // Each layer's format is the measured rule's: CSR from 86 % sparsity on, bitmap below.
        Assert.All(model.Layers, l => Assert.Equal(l.Sparsity >= UnstructuredFormat.CsrFromSparsity ? "csr" : "bitmap", l.Matrix.Format));
        Assert.Contains(model.Layers, l => sparsity < 0.86 ? l.Matrix is BitmapMatrix : l.Matrix is CsrMatrix);
        Assert.All(model.Layers, l => Assert.All(l.Decisions, d => Assert.Equal(l.SparseKind, d.Kernel)));
        Assert.Equal(2, model.Layers[0].Decisions.Count);
        var (denseBytes, sparseBytes) = model.WeightBytes;
        Assert.True(sparseBytes < denseBytes / 3, $"{sparseBytes} bytes sparse vs {denseBytes} dense");
    }

    [Fact]
    public void Sparse_model_agrees_with_onnx_runtime()
    {
        using var folder = new PruneSharp.Tests.Onnx.TestGraphs.TempFolder();
        var graph = PrunedLeNet5(0.9);
        OnnxFile.Write(graph, folder.File("lenet5-90.onnx"));
        using var model = SparseModel.Load(folder.File("lenet5-90.onnx"), new SparseModelOptions { Selection = KernelSelection.Sparse });
        var report = RuntimeCheck.Run(folder.File("lenet5-90.onnx"), new RuntimeCheckOptions
        {
            Registry = model.Registry, Samples = 2, InputShapes = new Dictionary<string, long[]> { ["input"] = new long[] { 3, 1, 28, 28 } },
        });
        Assert.True(report.Passed, $"max abs diff {report.Outputs[0].MaxAbsDiff}");
    }

    [Fact]
    public void Measured_selection_records_both_latencies_and_keeps_the_outputs()
    {
        var graph = PrunedLeNet5(0.95);
        using var model = new SparseModel(graph, new SparseModelOptions { MeasureRounds = 3, Compile = false });
        AssertSameOutputs(graph, model, randn(2, 1, 28, 28));
        Assert.All(model.Layers, l =>
        {
            var decision = Assert.Single(l.Decisions);
            Assert.NotNull(decision.Measurement);
            Assert.Equal(decision.Measurement!.Faster, decision.Kernel);
        });
    }

    [Fact]
    public void Matmul_on_three_dimensional_inputs_and_two_four_weights_use_the_compact_format()
    {
        var b = new GraphBuilder("mlp", seed: 5);
        var x = b.Input("x", null, 6, 32);
        var h = b.Relu(b.Linear(x, 64, "fc1"), "relu");
        b.Output(b.Linear(h, 16, "fc2", bias: false), "y");
        using var built = b.Build();
        var graph = built.ToGraph();
        // fc1 2:4 along its inputs (MatMul stores [in, out]: groups run down the columns of the stored weight).
        var w = graph.Initializers["fc1.weight"].t().contiguous();
        using (var groups = w.view(64, 8, 4))
        {
            using var order = groups.abs().argsort(dim: -1, descending: true);
            using var mask = zeros_like(groups).scatter_(-1, order.slice(-1, 0, 2, 1), ones_like(groups));
            graph.Initializers["fc1.weight"] = (groups * mask).view(64, 32).t().contiguous();
        }
        graph = Pruned(graph, 0.0, 1);
        graph.Initializers["fc2.weight"] = Pruned(new PruneSharp.Graph.Graph { Initializers = { ["w"] = graph.Initializers["fc2.weight"] } }, 0.8, 2).Initializers["w"];
        foreach (bool compile in new[] { false, true })
        {
            using var model = new SparseModel(graph, new SparseModelOptions { Selection = KernelSelection.Sparse, Compile = compile });
            Assert.Equal(compile, model.Plan != null);
            Assert.Equal(2, model.Layers.Count);
            Assert.Equal("2:4", model.Layers[0].Matrix.Format);
            Assert.IsType<NmMatrix>(model.Layers[0].Matrix);
            Assert.IsType<BitmapMatrix>(model.Layers[1].Matrix); // 80 %: bitmap, below the measured crossover
            foreach (int batch in new[] { 1, 4 })
                AssertSameOutputs(graph, model, randn(batch, 6, 32));
            Assert.All(model.Layers, l => Assert.All(l.Decisions, d => Assert.Equal(compile, d.Compiled)));
        }
    }

    [Fact]
    public void Gemm_attributes_and_strided_dilated_asymmetric_convolutions_match()
    {
        var rng = new Generator(4);
        var g = new PruneSharp.Graph.Graph { Name = "odd", Opset = 17 };
        g.Inputs.Add(new ValueInfo("input", DataType.Float, new[] { Dim.Named("batch"), (Dim)3, (Dim)11, (Dim)9 }));
        g.Outputs.Add(new ValueInfo("out", DataType.Float, new[] { Dim.Named("batch"), (Dim)7 }));
        g.Initializers["conv.weight"] = randn(new long[] { 5, 3, 3, 2 }, generator: rng);
        g.Initializers["conv.bias"] = randn(new long[] { 5 }, generator: rng);
        g.Initializers["fc.weight"] = randn(new long[] { 5, 7 }, generator: rng); // transB = 0: [in, out]
        g.Initializers["fc.bias"] = randn(new long[] { 7 }, generator: rng);
        g.Nodes.Add(new Node("conv", "Conv", new[] { "input", "conv.weight", "conv.bias" }, new[] { "c" }, new Dictionary<string, AttributeValue>
        {
            ["pads"] = AttributeValue.FromInts(new long[] { 0, 1, 2, 0 }),
            ["strides"] = AttributeValue.FromInts(new long[] { 2, 1 }),
            ["dilations"] = AttributeValue.FromInts(new long[] { 1, 2 }),
        }));
        g.Nodes.Add(new Node("pool", "GlobalAveragePool", new[] { "c" }, new[] { "p" }));
        g.Nodes.Add(new Node("flatten", "Flatten", new[] { "p" }, new[] { "f" }));
        g.Nodes.Add(new Node("fc", "Gemm", new[] { "f", "fc.weight", "fc.bias" }, new[] { "out" }, new Dictionary<string, AttributeValue>
        {
            ["alpha"] = AttributeValue.FromFloat(0.5f), ["beta"] = AttributeValue.FromFloat(2f),
        }));
        Pruned(g, 0.6, 3);
        foreach (bool compile in new[] { false, true })
        {
            using var model = new SparseModel(g, new SparseModelOptions { Selection = KernelSelection.Sparse, MinSparsity = 0.3, Compile = compile });
            Assert.Equal(2, model.Layers.Count);
            foreach (int batch in new[] { 1, 3 })
                AssertSameOutputs(g, model, randn(batch, 3, 11, 9));
        }
    }

    [Fact]
    public void Layers_below_the_minimum_sparsity_stay_dense_and_bad_options_are_refused()
    {
        var graph = PrunedLeNet5(0.2);
        using var model = new SparseModel(graph, new SparseModelOptions { MinSparsity = 0.5 });
        Assert.Empty(model.Layers);
        AssertSameOutputs(graph, model, randn(1, 1, 28, 28));
        Assert.Throws<ArgumentException>(() => new SparseModel(graph, new SparseModelOptions { Threads = 0 }));
        Assert.Throws<ArgumentException>(() => new SparseModel(graph, new SparseModelOptions { MinSparsity = 1.5 }));
    }
}
