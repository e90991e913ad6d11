using PruneSharp.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Graph;

public class GraphModuleTests
{
    /// <summary>conv(3→4, 3x3, pad 1) → BN → ReLU → global average pool → flatten → Gemm(4→5).</summary>
    static PruneSharp.Graph.Graph SmallCnn()
    {
        manual_seed(11);
        var g = new PruneSharp.Graph.Graph { Name = "small_cnn", Opset = 17 };
        g.Inputs.Add(new ValueInfo("input", DataType.Float, new[] { Dim.Named("batch"), (Dim)3, (Dim)8, (Dim)8 }));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, new[] { Dim.Named("batch"), (Dim)5 }));
        g.Initializers["conv.weight"] = randn(4, 3, 3, 3) * 0.3;
        g.Initializers["conv.bias"] = randn(4) * 0.1;
        g.Initializers["bn.weight"] = rand(4) + 0.5;
        g.Initializers["bn.bias"] = randn(4) * 0.1;
        g.Initializers["bn.running_mean"] = randn(4) * 0.1;
        g.Initializers["bn.running_var"] = rand(4) + 0.5;
        g.Initializers["fc.weight"] = randn(5, 4) * 0.5;
        g.Initializers["fc.bias"] = randn(5) * 0.1;
        g.Nodes.Add(new Node("conv", "Conv", new[] { "input", "conv.weight", "conv.bias" }, new[] { "c" },
            new Dictionary<string, AttributeValue> { ["pads"] = AttributeValue.FromInts(new long[] { 1, 1, 1, 1 }), ["kernel_shape"] = AttributeValue.FromInts(new long[] { 3, 3 }) }));
        g.Nodes.Add(new Node("bn", "BatchNormalization", new[] { "c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var" }, new[] { "b" }));
        g.Nodes.Add(new Node("relu", "Relu", new[] { "b" }, new[] { "r" }));
        g.Nodes.Add(new Node("pool", "GlobalAveragePool", new[] { "r" }, new[] { "p" }));
        g.Nodes.Add(new Node("flatten", "Flatten", new[] { "p" }, new[] { "f" }));
        g.Nodes.Add(new Node("fc", "Gemm", new[] { "f", "fc.weight", "fc.bias" }, new[] { "logits" },
            new Dictionary<string, AttributeValue> { ["transB"] = AttributeValue.FromInt(1L) }));
        return g;
    }

    static Tensor Reference(PruneSharp.Graph.Graph g, Tensor x, bool training)
    {
        var i = g.Initializers;
        var c = nn.functional.conv2d(x, i["conv.weight"], i["conv.bias"], padding: new long[] { 1, 1 });
        var b = nn.functional.batch_norm(c, i["bn.running_mean"].clone(), i["bn.running_var"].clone(), i["bn.weight"], i["bn.bias"], training, 0.1, 1e-5);
        var p = nn.functional.relu(b).mean(new long[] { 2, 3 });
        return nn.functional.linear(p, i["fc.weight"], i["fc.bias"]);
    }

    [Fact]
    public void Forward_matches_the_same_network_written_with_torch_ops()
    {
        var g = SmallCnn();
        using var module = new GraphModule(g);
        module.eval();
        var x = randn(2, 3, 8, 8);
        Assert.True(module.call(x).allclose(Reference(g, x, training: false), 1e-5, 1e-6));
    }

    [Fact]
    public void Float_weights_are_parameters_and_running_statistics_are_buffers()
    {
        using var module = new GraphModule(SmallCnn());
        var parameters = module.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Equal(new[] { "bn.bias", "bn.weight", "conv.bias", "conv.weight", "fc.bias", "fc.weight" }, parameters.Order());
        var buffers = module.named_buffers().Select(b => b.name).Order();
        Assert.Equal(new[] { "bn.running_mean", "bn.running_var" }, buffers);
    }

    [Fact]
    public void Training_mode_uses_batch_statistics_and_updates_running_buffers()
    {
        var g = SmallCnn();
        using var module = new GraphModule(g);
        module.train();
        var x = randn(4, 3, 8, 8);
        var before = module.get_buffer("bn.running_mean")!.clone();
        Assert.True(module.call(x).allclose(Reference(g, x, training: true), 1e-4, 1e-5));
        Assert.False(module.get_buffer("bn.running_mean")!.allclose(before));
    }

    [Fact]
    public void Gradients_reach_every_parameter_and_an_optimizer_step_lowers_the_loss()
    {
        using var module = new GraphModule(SmallCnn());
        module.train();
        using var generator = new Generator(3); // not the global generator, which tests running in parallel share
        var x = randn(new long[] { 16, 3, 8, 8 }, generator: generator);
        var y = x.mean(new long[] { 2, 3 }).argmax(1); // learnable labels: the input channel with the largest mean
        var optimizer = optim.SGD(module.parameters(), 0.1, momentum: 0.9);
        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(module.call(x), y);
            loss.backward();
            if (step == 0)
                foreach (var (name, p) in module.named_parameters())
                    Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first * 0.8, $"loss {first} -> {last}");
    }

    [Fact]
    public void State_dict_round_trips_into_a_fresh_module()
    {
        using var trained = new GraphModule(SmallCnn());
        using (no_grad()) trained.get_parameter("fc.weight")!.mul_(2);
        using var fresh = new GraphModule(SmallCnn());
        fresh.load_state_dict(trained.state_dict());
        trained.eval(); fresh.eval();
        var x = randn(3, 3, 8, 8);
        Assert.True(trained.call(x).allclose(fresh.call(x)));
    }

    [Fact]
    public void Forward_hooks_fire_and_intermediates_can_be_captured()
    {
        using var module = new GraphModule(SmallCnn());
        module.eval();
        int calls = 0;
        module.register_forward_hook((m, input, output) => { calls++; return output; });
        var x = randn(2, 3, 8, 8);
        module.call(x);
        Assert.Equal(1, calls);

        var captured = new Dictionary<string, Tensor>();
        var outputs = module.Run(new[] { x }, captured, new[] { "r", "input" });
        Assert.Equal(new long[] { 2, 4, 8, 8 }, captured["r"].shape);
        Assert.True(captured["r"].min().item<float>() >= 0);
        Assert.Same(x, captured["input"]);
        Assert.Single(outputs);
    }

    [Fact]
    public void An_observer_sees_every_value_once_while_intermediates_are_freed()
    {
        var graph = SmallCnn();
        using var module = new GraphModule(graph);
        module.eval();
        var x = randn(new long[] { 2, 3, 8, 8 }, generator: new Generator(2));
        var seen = new List<(string Name, long[] Shape)>();
        var outputs = module.Run(new[] { x }, (name, value) => seen.Add((name, value.shape)));

        var expected = graph.Inputs.Select(i => i.Name).Concat(graph.Initializers.Keys).Concat(graph.Nodes.SelectMany(n => n.Outputs));
        Assert.Equal(expected.Order(), seen.Select(s => s.Name).Order());
        Assert.Equal(new long[] { 2, 4, 8, 8 }, seen.Single(s => s.Name == "r").Shape);
        Assert.True(outputs[0].allclose(module.call(x)));
    }

    [Fact]
    public void Wrong_input_shape_is_rejected_before_running()
    {
        using var module = new GraphModule(SmallCnn());
        var error = Assert.Throws<GraphException>(() => module.call(randn(2, 1, 8, 8)));
        Assert.Contains("input 'input'", error.Message);
        Assert.Contains("dimension 1", error.Message);
    }

    [Fact]
    public void Cycles_missing_values_and_unsupported_ops_are_reported_by_name()
    {
        var cyclic = new PruneSharp.Graph.Graph();
        cyclic.Inputs.Add(new ValueInfo("x", DataType.Float, null));
        cyclic.Outputs.Add(new ValueInfo("b", DataType.Float, null));
        cyclic.Nodes.Add(new Node("n1", "Add", new[] { "x", "b" }, new[] { "a" }));
        cyclic.Nodes.Add(new Node("n2", "Relu", new[] { "a" }, new[] { "b" }));
        Assert.Contains("cycle", Assert.Throws<GraphException>(() => new GraphModule(cyclic)).Message);

        var missing = new PruneSharp.Graph.Graph();
        missing.Inputs.Add(new ValueInfo("x", DataType.Float, null));
        missing.Outputs.Add(new ValueInfo("y", DataType.Float, null));
        missing.Nodes.Add(new Node("n1", "Add", new[] { "x", "w" }, new[] { "y" }));
        Assert.Contains("'w'", Assert.Throws<GraphException>(() => new GraphModule(missing)).Message);

        var unsupported = new PruneSharp.Graph.Graph { Opset = 13 };
        unsupported.Inputs.Add(new ValueInfo("x", DataType.Float, null));
        unsupported.Outputs.Add(new ValueInfo("y", DataType.Float, null));
        unsupported.Nodes.Add(new Node("weird", "FancyOp", new[] { "x" }, new[] { "y" }));
        var error = Assert.Throws<UnsupportedOpException>(() => new GraphModule(unsupported));
        Assert.Contains("FancyOp", error.Message);
        Assert.Contains("'weird'", error.Message);
        Assert.Contains("opset 13", error.Message);
        Assert.Contains("Conv", error.Message);
    }
}
