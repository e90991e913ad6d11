using PruneSharp.Graph;
using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

public class OnnxRoundTripTests
{
    [Fact]
    public void Write_then_read_gives_an_identical_graph()
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = TestGraphs.SmallCnn();
        OnnxFile.Write(graph, folder.File("cnn.onnx"));
        var read = OnnxFile.Read(folder.File("cnn.onnx"));
        graph.Metadata[OnnxFile.ProducerNameKey] = "PruneSharp";
        graph.Metadata[OnnxFile.ProducerVersionKey] = read.Metadata[OnnxFile.ProducerVersionKey];
        GraphAssert.Identical(graph, read);

        OnnxFile.Write(read, folder.File("again.onnx"));
        GraphAssert.Identical(read, OnnxFile.Read(folder.File("again.onnx")));
        Assert.Equal(File.ReadAllBytes(folder.File("cnn.onnx")), File.ReadAllBytes(folder.File("again.onnx")));
    }

    [Fact]
    public void A_model_reached_through_a_symbolic_link_reads_like_the_file()
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = TestGraphs.SmallCnn();
        OnnxFile.Write(graph, folder.File("cnn.onnx"));
        File.CreateSymbolicLink(folder.File("link.onnx"), folder.File("cnn.onnx"));
        GraphAssert.Identical(OnnxFile.Read(folder.File("cnn.onnx")), OnnxFile.Read(folder.File("link.onnx")));
    }

    [Fact]
    public void Every_element_type_and_attribute_kind_survives_the_round_trip()
    {
        using var folder = new TestGraphs.TempFolder();
        var g = new PruneSharp.Graph.Graph { Name = "types", Opset = 13 };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { (Dim)2 }));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { (Dim)2 }));
        manual_seed(3);
        g.Initializers["f32"] = randn(2, 3);
        g.Initializers["f64"] = randn(4, dtype: float64);
        g.Initializers["f16"] = randn(3, 2).to(float16);
        g.Initializers["bf16"] = randn(5).to(bfloat16);
        g.Initializers["i64"] = tensor(new long[] { long.MinValue, -1, 0, long.MaxValue });
        g.Initializers["i32"] = tensor(new[] { int.MinValue, 7 });
        g.Initializers["i16"] = tensor(new short[] { -3, 300 });
        g.Initializers["i8"] = tensor(new sbyte[] { -128, 127 });
        g.Initializers["u8"] = tensor(new byte[] { 0, 255 });
        g.Initializers["bool"] = tensor(new[] { true, false, true });
        g.Initializers["scalar"] = tensor(2.5f);
        g.Initializers["empty"] = zeros(0, 3);
        // An op of a custom domain carries every attribute kind (ops of the default domain may only have their own attributes).
        g.Nodes.Add(new Node("add", "Carrier", new[] { "x", "x" }, new[] { "y" }, new Dictionary<string, AttributeValue>
        {
            ["f"] = AttributeValue.FromFloat(-0.5f),
            ["i"] = AttributeValue.FromInt(-7),
            ["s"] = AttributeValue.FromString("héllo"),
            ["t"] = AttributeValue.FromTensor(tensor(new long[] { 1, 2, 3 })),
            ["fs"] = AttributeValue.FromFloats(new[] { 1.5f, float.NegativeInfinity }),
            ["is"] = AttributeValue.FromInts(new long[] { 0, -1, long.MaxValue }),
            ["ss"] = AttributeValue.FromStrings(new[] { "a", "" }),
        }, domain: "org.prunesharp.test"));
        g.Nodes.Add(new Node("", "Identity", new[] { "x" }, new[] { "unused" }));
        OnnxFile.Write(g, folder.File("types.onnx"));
        var read = OnnxFile.Read(folder.File("types.onnx"));
        Assert.Equal("Identity_1", read.Nodes[1].Name); // unnamed nodes get a stable name
        g.Nodes[1].Name = "Identity_1";
        g.Metadata[OnnxFile.ProducerNameKey] = "PruneSharp";
        g.Metadata[OnnxFile.ProducerVersionKey] = read.Metadata[OnnxFile.ProducerVersionKey];
        GraphAssert.Identical(g, read);
    }

    [Fact]
    public void A_module_saved_after_training_reloads_with_its_new_weights()
    {
        using var folder = new TestGraphs.TempFolder();
        using var module = new GraphModule(TestGraphs.SmallCnn());
        using (no_grad()) module.get_parameter("fc.weight")!.mul_(3);
        OnnxFile.Save(module, folder.File("trained.onnx"));
        using var loaded = OnnxFile.Load(folder.File("trained.onnx"));
        module.eval(); loaded.eval();
        var x = randn(2, 3, 8, 8);
        Assert.True(module.call(x).allclose(loaded.call(x), 1e-6, 1e-7));
    }

    [Fact]
    public void Writing_over_an_existing_file_leaves_no_temporary_files()
    {
        using var folder = new TestGraphs.TempFolder();
        OnnxFile.Write(TestGraphs.SmallCnn(), folder.File("m.onnx"));
        OnnxFile.Write(TestGraphs.SmallCnn(), folder.File("m.onnx"));
        Assert.Equal(new[] { "m.onnx" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }
}
