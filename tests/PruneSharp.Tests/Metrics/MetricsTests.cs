using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Tests.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Metrics;

public class MetricsTests
{
    /// <summary>Grouped strided conv (4→6, 3x3, groups 2, stride 2, pad 1) → ReLU → global pool → flatten → Gemm(6→3).</summary>
    static PruneSharp.Graph.Graph GroupedConvNet()
    {
        manual_seed(3);
        var g = new PruneSharp.Graph.Graph { Name = "grouped", Opset = 17 };
        g.Inputs.Add(new ValueInfo("input", DataType.Float, new[] { Dim.Named("batch"), (Dim)4, (Dim)8, (Dim)8 }));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, new[] { Dim.Named("batch"), (Dim)3 }));
        g.Initializers["conv.weight"] = randn(6, 2, 3, 3);
        g.Initializers["conv.bias"] = randn(6);
        g.Initializers["fc.weight"] = randn(3, 6);
        g.Initializers["fc.bias"] = randn(3);
        g.Nodes.Add(new Node("conv", "Conv", new[] { "input", "conv.weight", "conv.bias" }, new[] { "c" },
            new Dictionary<string, AttributeValue>
            {
                ["pads"] = AttributeValue.FromInts(new long[] { 1, 1, 1, 1 }),
                ["strides"] = AttributeValue.FromInts(new long[] { 2, 2 }),
                ["group"] = AttributeValue.FromInt(2L),
            }));
        g.Nodes.Add(new Node("relu", "Relu", new[] { "c" }, new[] { "r" }));
        g.Nodes.Add(new Node("pool", "GlobalAveragePool", new[] { "r" }, new[] { "p" }));
        g.Nodes.Add(new Node("flatten", "Flatten", new[] { "p" }, new[] { "f" }));
        g.Nodes.Add(new Node("fc", "Gemm", new[] { "f", "fc.weight", "fc.bias" }, new[] { "logits" },
            new Dictionary<string, AttributeValue> { ["transB"] = AttributeValue.FromInt(1L) }));
        return g;
    }

    [Fact]
    public void Graph_macs_of_a_grouped_strided_conv_net_match_a_hand_computation()
    {
        using var module = new GraphModule(GroupedConvNet());
        var report = MacCounter.Measure(module, new[] { randn(2, 4, 8, 8) });
        // conv: output 2x6x4x4 = 192 values, each (4/2)·3·3 = 18 MACs; fc: 2x3 outputs of 6 MACs.
        Assert.Equal(new long[] { 3456, 36 }, report.Layers.Select(l => l.DenseMacs));
        Assert.Equal(3492, report.DenseMacs);
        Assert.Equal(6984, report.DenseFlops);
        Assert.Equal(report.DenseMacs, report.EffectiveMacs);

        using var masks = new MaskSet(module);
        new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity()).Prune(0.5);
        var sparse = MacCounter.Measure(module, new[] { randn(2, 4, 8, 8) });
        Assert.Equal(3456 / 2 + 36 / 2, sparse.EffectiveMacs);
        Assert.Equal("conv.weight", sparse.Layers[0].Weight);
        Assert.Equal(0.5, sparse.Layers[0].WeightDensity);
        Assert.Equal(2.0, sparse.Speedup);
        Assert.True(module.training, "measuring must not change the training flag");
    }

    [Fact]
    public void Module_macs_counted_with_hooks_match_a_hand_computation()
    {
        using var model = TestModels.Cnn();
        var report = MacCounter.Measure(model, randn(2, 3, 8, 8));
        // conv1: 2·8·8 positions x 8 out x 3·9; conv2: 2·8·8 x 8 x 8·9; fc: 2 x 5 x 8.
        Assert.Equal(new[] { "conv1", "conv2", "fc" }, report.Layers.Select(l => l.Name));
        Assert.Equal(new long[] { 27648, 73728, 80 }, report.Layers.Select(l => l.DenseMacs));

        using var masks = new MaskSet(model);
        masks.Prune("conv2.weight", arange(576).reshape(8, 8, 3, 3).remainder(4).ne(0));
        var sparse = MacCounter.Measure(model, randn(2, 3, 8, 8));
        Assert.Equal(27648 + 73728 * 3 / 4 + 80, sparse.EffectiveMacs);

        // Hooks are removed afterwards.
        int before = sparse.Layers.Count;
        Assert.Equal(before, MacCounter.Measure(model, randn(1, 3, 8, 8)).Layers.Count);
    }

    [Fact]
    public void Transposed_convolution_macs_scale_with_input_positions()
    {
        using var model = nn.Sequential(("up", nn.ConvTranspose2d(4, 2, 3, stride: 2)));
        var report = MacCounter.Measure(model, randn(1, 4, 5, 5));
        // Every input position (1x5x5) multiplies each of the 4·2·3·3 weights once.
        Assert.Equal(25 * 72, report.Layers.Single().DenseMacs);
    }

    [Fact]
    public void Sparsity_report_counts_parameters_nonzeros_and_both_compression_conventions()
    {
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity()).Prune(0.75);
        var report = SparsityReport.Measure(model);
        long total = 192 + 16 + 128 + 8 + 32 + 4;
        long zeros = 144 + 96 + 24;
        Assert.Equal(total, report.Parameters);
        Assert.Equal(total - zeros, report.NonZeros);
        Assert.Equal((double)zeros / total, report.Sparsity, 12);
        Assert.Equal((double)total / (total - zeros), report.CompressionRatio, 12);
        Assert.Equal((double)(total - zeros) / total, report.RemainingFraction, 12);
        Assert.Equal(0.75, report.Layers.Single(l => l.Name == "fc1.weight").Sparsity, 12);

        var weightsOnly = SparsityReport.Measure(model, n => n.EndsWith(".weight"));
        Assert.Equal(0.75, weightsOnly.Sparsity, 12);
    }
}
