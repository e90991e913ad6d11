using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

/// <summary>
/// The token stream of a vision transformer as an exporter writes it: patch embedding, a class token broadcast to the
/// batch (its size read with Shape → Gather), learned positions, a pre-LayerNorm MLP block with a residual add, and
/// the class token's features picked for the head.
/// </summary>
public class ClassTokenTests
{
    const int Patches = 6, PatchSize = 5, Width = 8, Hidden = 12, Classes = 3;

    static PruneSharp.Graph.Graph TinyVit()
    {
        var generator = new Generator(4);
        Tensor Random(params long[] shape) => randn(shape, generator: generator) * 0.5;
        var g = new PruneSharp.Graph.Graph { Name = "tiny_vit", Opset = 17 };
        g.Inputs.Add(new ValueInfo("patches", DataType.Float, new[] { Dim.Named("batch"), (Dim)Patches, (Dim)PatchSize }));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, new[] { Dim.Named("batch"), (Dim)Classes }));
        g.Initializers["embed.weight"] = Random(PatchSize, Width);
        g.Initializers["class_token"] = Random(1, 1, Width);
        g.Initializers["positions"] = Random(1, Patches + 1, Width);
        g.Initializers["ln.weight"] = Random(Width) + 1;
        g.Initializers["ln.bias"] = Random(Width);
        g.Initializers["fc1.weight"] = Random(Width, Hidden);
        g.Initializers["fc2.weight"] = Random(Hidden, Width);
        g.Initializers["head.weight"] = Random(Classes, Width);
        g.Initializers["head.bias"] = Random(Classes);
        g.Initializers["zero"] = tensor(0L);
        g.Initializers["axes"] = tensor(new long[] { 0 });
        g.Initializers["rest"] = tensor(new long[] { 1, 1 }); // expand(n, -1, -1): 1 keeps the token's own size
        Node N(string name, string op, string[] inputs, string output, Dictionary<string, AttributeValue>? attributes = null) =>
            new(name, op, inputs, new[] { output }, attributes);
        var axis = (long a) => new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(a) };
        g.Nodes.AddRange(new[]
        {
            N("embed", "MatMul", new[] { "patches", "embed.weight" }, "tokens"),
            N("shape", "Shape", new[] { "tokens" }, "shape"),
            N("batch", "Gather", new[] { "shape", "zero" }, "batch", axis(0)),
            N("batch1", "Unsqueeze", new[] { "batch", "axes" }, "batch1"),
            N("target", "Concat", new[] { "batch1", "rest" }, "target", axis(0)),
            N("expand", "Expand", new[] { "class_token", "target" }, "cls"),
            N("concat", "Concat", new[] { "cls", "tokens" }, "stream", axis(1)),
            N("position", "Add", new[] { "stream", "positions" }, "x"),
            N("ln", "LayerNormalization", new[] { "x", "ln.weight", "ln.bias" }, "normed", axis(-1)),
            N("fc1", "MatMul", new[] { "normed", "fc1.weight" }, "h"),
            N("relu", "Relu", new[] { "h" }, "r"),
            N("fc2", "MatMul", new[] { "r", "fc2.weight" }, "m"),
            N("residual", "Add", new[] { "x", "m" }, "y"),
            N("pick", "Gather", new[] { "y", "zero" }, "first", axis(1)),
            new Node("head", "Gemm", new[] { "first", "head.weight", "head.bias" }, new[] { "logits" },
                new Dictionary<string, AttributeValue> { ["transB"] = AttributeValue.FromInt(1L) }),
        });
        return g;
    }

    static Tensor Patches2() => randn(new long[] { 2, Patches, PatchSize }, generator: new Generator(9));

    [Fact]
    public void Narrowing_the_shape_read_makes_the_width_one_group_with_the_class_token_and_the_positions()
    {
        var x = Patches2();
        using (var raw = new GraphModule(TinyVit()))
            Assert.Contains(DependencyGraph.Build(raw, new[] { x }).Blocked, b => b.Reasons.Any(r => r.Contains("Shape reads the size of the channel axis")));

        var graph = TinyVit();
        Assert.Equal(1, ShapeGathers.Apply(graph));
        var narrowed = graph.Nodes.Single(n => n.OpType == "Shape");
        Assert.Equal((0L, 1L), (narrowed.GetInt("start", -1), narrowed.GetInt("end", -1)));
        using var model = new GraphModule(graph);
        using var original = new GraphModule(TinyVit());
        using (no_grad()) Assert.True(model.call(x).allclose(original.call(x)));

        var dependencies = DependencyGraph.Build(model, new[] { x });
        Assert.All(dependencies.Blocked, b => Assert.Contains("graph output", b.Reasons[0])); // the classifier's outputs
        var width = dependencies.Groups.Single(g => g.Size == Width);
        Assert.False(width.IsExact);
        foreach (string weight in new[] { "class_token", "positions", "embed.weight", "ln.weight", "fc1.weight", "fc2.weight", "head.weight" })
            Assert.Contains(width.Members, m => m.Weight == weight);
        Assert.True(dependencies.Groups.Single(g => g.Size == Hidden).IsExact);
    }

    [Fact]
    public void Pruning_the_width_approximately_gives_a_consistent_model_that_onnx_runtime_agrees_with()
    {
        var graph = TinyVit();
        ShapeGathers.Apply(graph);
        using var model = new GraphModule(graph);
        model.eval();
        var x = Patches2();
        var dependencies = DependencyGraph.Build(model, new[] { x });
        var removed = ChannelSelection.Select(dependencies, new MagnitudeImportance(), new ChannelPruningOptions { Ratio = 0.5, Approximate = true });
        using var pruned = Surgery.Apply(dependencies, removed);
        pruned.eval();
        Assert.Equal(new long[] { 1, 1, Width / 2 }, pruned.get_parameter("class_token")!.shape);
        Assert.Equal(new long[] { Width / 2, Hidden / 2 }, pruned.get_parameter("fc1.weight")!.shape);

        using var folder = new TempFolder();
        OnnxFile.Save(pruned, folder.File("pruned.onnx"));
        using var runtime = new OnnxRuntimeRunner(folder.File("pruned.onnx"));
        using var _ = no_grad();
        var ours = pruned.call(x);
        var theirs = runtime.Run(new Dictionary<string, Tensor> { ["patches"] = x }).First().Value;
        Assert.Equal(new long[] { 2, Classes }, ours.shape);
        Assert.True(theirs.allclose(ours, 1e-4, 1e-5));
    }

    [Fact]
    public void A_constant_expand_target_that_fixes_the_width_keeps_it_whole()
    {
        var graph = TinyVit();
        ShapeGathers.Apply(graph);
        graph.Initializers["fixed"] = tensor(new long[] { 2, 1, Width });
        int at = graph.Nodes.FindIndex(n => n.Name == "expand");
        graph.Nodes[at] = new Node("expand", "Expand", new[] { "class_token", "fixed" }, new[] { "cls" });
        using var model = new GraphModule(graph);
        var dependencies = DependencyGraph.Build(model, new[] { Patches2() });
        Assert.DoesNotContain(dependencies.Groups, g => g.Size == Width);
        Assert.Contains(dependencies.Blocked, b => b.Size == Width);
    }
}
