using PruneSharp.Graph;
using PruneSharp.Pruning.Structured;
using PruneSharp.Tests.Pruning.Structured;
using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ChannelRuleTests
{
    /// <summary>conv (3→6) → the op under test → global average pool → flatten → fc (6→4).</summary>
    static GraphModule Model(string opType, Dictionary<string, AttributeValue>? attributes = null, params (string Name, Tensor Value)[] extraInputs)
    {
        manual_seed(7);
        var g = new PruneSharp.Graph.Graph { Name = "rule", Opset = 21 };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { (Dim)2, (Dim)3, (Dim)8, (Dim)8 }));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, null));
        g.Initializers["conv.weight"] = randn(6, 3, 3, 3) * 0.3;
        g.Initializers["conv.bias"] = randn(6) * 0.1;
        g.Initializers["fc.weight"] = randn(4, 6) * 0.5;
        g.Initializers["fc.bias"] = randn(4) * 0.1;
        foreach (var (name, value) in extraInputs) if (name.Length > 0 && name != "c") g.Initializers[name] = value;
        g.Nodes.Add(new Node("conv", "Conv", new[] { "x", "conv.weight", "conv.bias" }, new[] { "c" },
            new Dictionary<string, AttributeValue> { ["pads"] = AttributeValue.FromInts(new long[] { 1, 1, 1, 1 }) }));
        g.Nodes.Add(new Node("op", opType, new[] { "c" }.Concat(extraInputs.Select(e => e.Name)), new[] { "o" }, attributes));
        g.Nodes.Add(new Node("pool", "GlobalAveragePool", new[] { "o" }, new[] { "p" }));
        g.Nodes.Add(new Node("flatten", "Flatten", new[] { "p" }, new[] { "f" }));
        g.Nodes.Add(new Node("fc", "Gemm", new[] { "f", "fc.weight", "fc.bias" }, new[] { "y" },
            new Dictionary<string, AttributeValue> { ["transB"] = AttributeValue.FromInt(1L) }));
        var module = new GraphModule(g);
        module.eval();
        return module;
    }

    public static TheoryData<string> PassingOps => new() { "LpPool", "Resize", "MeanVarianceNormalization", "Sum", "Mod", "Hardmax" };

    static GraphModule PassingModel(string op) => op switch
    {
        "LpPool" => Model(op, Attrs(("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))),
        "Resize" => Model(op, Attrs(("mode", "linear")), ("", empty(0)), ("scales", tensor(new float[] { 1, 1, 2, 2 }))),
        "MeanVarianceNormalization" => Model(op),
        "Sum" => Model(op, null, ("c", empty(0))),
        "Mod" => Model(op, Attrs(("fmod", 1L)), ("divisor", rand(1, 6, 1, 1) + 1)),
        _ => Model(op, Attrs(("axis", -1L))),
    };

    [Theory]
    [MemberData(nameof(PassingOps))]
    public void Ops_that_keep_channels_apart_let_the_conv_be_pruned_exactly(string op)
    {
        using var module = PassingModel(op);
        var graph = DependencyGraph.Build(module, new[] { randn(2, 3, 8, 8) });
        Assert.Contains(graph.Groups, g => g.Producers.Contains("conv") && g.Size == 6);
        StructuredEquivalence.PruneAndCheck(module, randn(2, 3, 8, 8), new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5 }, tolerance: 1e-4);
    }

    [Theory]
    [InlineData("LRN")]
    [InlineData("GroupNormalization")]
    [InlineData("Softmax")]
    public void Ops_that_mix_channels_block_the_conv_with_a_reason(string op)
    {
        using var module = op switch
        {
            "LRN" => Model(op, Attrs(("size", 3L))),
            "GroupNormalization" => Model(op, Attrs(("num_groups", 2L)), ("gn.scale", rand(6) + 0.5), ("gn.bias", randn(6))),
            _ => Model(op), // no axis: the rule cannot tell opset 13's last axis from the older 2-D form at axis 1
        };
        var graph = DependencyGraph.Build(module, new[] { randn(2, 3, 8, 8) });
        var blocked = Assert.Single(graph.Blocked, b => b.Producers.Contains("conv"));
        Assert.NotEmpty(blocked.Reasons);
    }
}
