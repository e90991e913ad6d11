using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ConvTests
{
    static Tensor RunConv(Tensor x, Tensor w, long pad, long groups = 1)
    {
        var g = new PruneSharp.Graph.Graph();
        g.Inputs.Add(new ValueInfo("x", DataType.Undefined, null));
        g.Outputs.Add(new ValueInfo("y", DataType.Undefined, null));
        g.Initializers["w"] = w;
        g.Nodes.Add(new Node("conv", "Conv", new[] { "x", "w" }, new[] { "y" }, new Dictionary<string, AttributeValue>
        {
            ["pads"] = AttributeValue.FromInts(Enumerable.Repeat(pad, 2 * ((int)x.dim() - 2)).ToArray()),
            ["group"] = AttributeValue.FromInt(groups),
        }));
        using var module = new GraphModule(g);
        using var _ = no_grad();
        return module.call(x);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(24)]
    [InlineData(30)]
    [InlineData(33)]
    [InlineData(60)]
    public void Float32_convolution_matches_float64_for_widths_that_libtorch_gets_wrong(long channels)
    {
        manual_seed(channels);
        foreach (var (x, w) in new[] { (randn(3, channels, 14, 14), randn(16, channels, 3, 3)), (randn(3, channels, 20), randn(8, channels, 3)) })
        {
            var y = RunConv(x, w, 1);
            var reference = RunConv(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), 1);
            double relative = ((y.to_type(ScalarType.Float64) - reference).abs().max() / reference.abs().max()).item<double>();
            Assert.True(relative < 1e-5, $"{channels} channels, rank {x.dim()}: relative error {relative}");
        }
    }

    [Theory]
    [InlineData(2, 5)]
    [InlineData(4, 6)]
    [InlineData(8, 8)]
    [InlineData(4, 12)]
    [InlineData(3, 24)]
    [InlineData(25, 8)]
    public void Float32_grouped_convolution_matches_float64_at_the_widths_pruning_leaves(long groups, long perGroup)
    {
        manual_seed(groups * 100 + perGroup);
        var x = randn(3, groups * perGroup, 14, 14);
        var w = randn(groups * perGroup, perGroup, 3, 3);
        var y = RunConv(x, w, 1, groups);
        var reference = RunConv(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), 1, groups);
        double relative = ((y.to_type(ScalarType.Float64) - reference).abs().max() / reference.abs().max()).item<double>();
        Assert.True(relative < 1e-5, $"{groups} groups of {perGroup}: relative error {relative}");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(24)]
    [InlineData(8, 2)]
    [InlineData(12, 4)]
    [InlineData(20, 4)]
    public void Input_gradient_matches_float64_for_output_widths_that_libtorch_gets_wrong(long outputs, long groups = 1)
    {
        manual_seed(outputs);
        var x = randn(4, 8, 8, 8);
        var w = randn(outputs, 8 / groups, 3, 3);
        var upstream = randn(4, outputs, 8, 8, dtype: float64);
        Tensor InputGradient(Tensor input, Tensor weight)
        {
            var g = new PruneSharp.Graph.Graph();
            g.Inputs.Add(new ValueInfo("x", DataType.Undefined, null));
            g.Outputs.Add(new ValueInfo("y", DataType.Undefined, null));
            g.Initializers["w"] = weight;
            g.Nodes.Add(new Node("conv", "Conv", new[] { "x", "w" }, new[] { "y" }, new Dictionary<string, AttributeValue>
            {
                ["pads"] = AttributeValue.FromInts(new long[] { 1, 1, 1, 1 }),
                ["group"] = AttributeValue.FromInt(groups),
            }));
            using var module = new GraphModule(g);
            var leaf = input.clone().requires_grad_();
            var y = module.call(leaf);
            return autograd.grad(new[] { (y * upstream.to_type(y.dtype)).sum() }, new[] { leaf })[0].to_type(ScalarType.Float64);
        }
        var reference = InputGradient(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64));
        for (int run = 0; run < 3; run++) // the defect reads stale memory, so one lucky run proves little
        {
            double relative = ((InputGradient(x, w) - reference).abs().max() / reference.abs().max()).item<double>();
            Assert.True(relative < 1e-5, $"{outputs} output channels, run {run}: relative error {relative}");
        }
    }

    [Fact]
    public void Grouped_and_asymmetric_padding_match_a_direct_sum()
    {
        manual_seed(4);
        var x = randn(2, 4, 5, 6, dtype: float64);
        var w = randn(6, 2, 2, 3, dtype: float64);
        var g = new PruneSharp.Graph.Graph();
        g.Inputs.Add(new ValueInfo("x", DataType.Double, null));
        g.Outputs.Add(new ValueInfo("y", DataType.Double, null));
        g.Initializers["w"] = w;
        g.Nodes.Add(new Node("conv", "Conv", new[] { "x", "w" }, new[] { "y" }, new Dictionary<string, AttributeValue>
        {
            ["pads"] = AttributeValue.FromInts(new long[] { 0, 1, 1, 0 }),
            ["strides"] = AttributeValue.FromInts(new long[] { 2, 1 }),
            ["group"] = AttributeValue.FromInt(2),
        }));
        using var module = new GraphModule(g);
        var y = module.call(x);
        // Direct definition: output (n, o, i, j) = Σ_c,a,b x_padded(n, g·2 + c, 2i + a, j + b) · w(o, c, a, b).
        var padded = nn.functional.pad(x, new long[] { 1, 0, 0, 1 });
        Assert.Equal(new long[] { 2, 6, 3, 5 }, y.shape);
        for (int n = 0; n < 2; n++)
        for (int o = 0; o < 6; o++)
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++)
        {
            double sum = 0;
            int group = o / 3;
            for (int c = 0; c < 2; c++)
            for (int a = 0; a < 2; a++)
            for (int b = 0; b < 3; b++)
                sum += padded[n, group * 2 + c, 2 * i + a, j + b].item<double>() * w[o, c, a, b].item<double>();
            Assert.Equal(sum, y[n, o, i, j].item<double>(), 10);
        }
    }
}
