using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Opsets;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

/// <summary>
/// Files at opsets 7-10 are upgraded to opset 11 on import: ONNX Runtime runs the original old-opset file, our executor
/// the upgraded graph, and the outputs must agree; writing keeps opset 11, or goes back to the old opset where expressible.
/// </summary>
public class OpsetUpgradeTests
{
    static string Fixture(int opset) => Path.Combine(AppContext.BaseDirectory, "Onnx", "Fixtures", $"featurizer-opset{opset}.onnx");

    static RuntimeCheckReport Check(string path, int samples = 2) =>
        RuntimeCheck.Run(path, new RuntimeCheckOptions { Samples = samples, Seed = 3, Tolerance = 1e-4 });

    static void AssertAgrees(string path)
    {
        var report = Check(path);
        Assert.True(report.Passed, string.Join("; ", report.Outputs.Select(o => $"{o.Name}: {o.MaxAbsDiff:G3} {o.Problem}")));
    }

    [Theory]
    [InlineData(7), InlineData(8), InlineData(9), InlineData(10)]
    public void Torch_exported_featurizer_agrees_with_onnx_runtime_on_the_original(int opset)
    {
        var graph = OnnxFile.Read(Fixture(opset));
        Assert.Equal(OpsetConversion.Target, graph.Opset);
        Assert.Equal(opset, graph.SourceOpset);
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "Upsample");
        Assert.Equal(new[] { "image" }, graph.Inputs.Select(i => i.Name)); // the weights are initializers, listed as inputs or not
        AssertAgrees(Fixture(opset));
    }

    [Theory]
    [InlineData(7), InlineData(10)]
    public void Written_upgrade_is_opset_11_and_agrees_with_the_original(int opset)
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = OnnxFile.Read(Fixture(opset));
        OnnxFile.Write(graph, folder.File("up.onnx"));
        var again = OnnxFile.Read(folder.File("up.onnx"));
        Assert.Equal(OpsetConversion.Target, again.Opset);
        Assert.Null(again.SourceOpset);
        AssertAgrees(folder.File("up.onnx"));
        var x = randn(1, 3, 16, 16);
        using var original = new OnnxRuntimeRunner(Fixture(opset));
        using var written = new OnnxRuntimeRunner(folder.File("up.onnx"));
        var feed = new Dictionary<string, Tensor> { ["image"] = x };
        Assert.True(original.Run(feed)["logits"].allclose(written.Run(feed)["logits"], 1e-5, 1e-6));
    }

    [Theory]
    [InlineData(7), InlineData(8), InlineData(9), InlineData(10)]
    public void Downgrade_writes_the_original_opset_back(int opset)
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = OnnxFile.Read(Fixture(opset));
        var old = OpsetConversion.Downgrade(graph, opset);
        Assert.Equal(opset, old.Opset);
        Assert.Equal(OpsetConversion.Target, graph.Opset); // the upgraded graph is left as it was
        OnnxFile.Write(old, folder.File("down.onnx"));
        Assert.Equal(opset, OnnxFile.Read(folder.File("down.onnx")).SourceOpset);
        AssertAgrees(folder.File("down.onnx"));
        // Nothing the upgrade added is left behind: the same nodes as the original, of the same op types.
        Assert.Equal(OnnxFile.Read(Fixture(opset)).Nodes.Count, old.Nodes.Count);
    }

    /// <summary>One node at an old opset, written as a file: ONNX Runtime runs it as it is, we run it upgraded.</summary>
    public static IEnumerable<object[]> SingleOps()
    {
        var x = new long[] { 2, 3, 4, 5 };
        OldOpsetModel Unary(int opset, string op, params (string, object)[] attributes) =>
            new OldOpsetModel(opset).Input("x", x).Node(op, new[] { "x" }, new[] { "y" }, attributes).Output("y");
        var statistics = new[] { rand(3) + 0.5f, randn(3), randn(3), rand(3) + 0.5f };
        var elementStatistics = statistics.Select(s => randn(3, 4, 5) * 0.5f + (s.mean().item<float>() > 0.4f ? 1f : 0f)).ToArray();
        elementStatistics[3] = rand(3, 4, 5) + 0.5f;
        OldOpsetModel BatchNorm(int opset, long spatial, Tensor[] p) => new OldOpsetModel(opset).Input("x", x)
            .Initializer("scale", p[0]).Initializer("bias", p[1]).Initializer("mean", p[2]).Initializer("var", p[3])
            .Node("BatchNormalization", new[] { "x", "scale", "bias", "mean", "var" }, new[] { "y" }, ("spatial", spatial), ("epsilon", 1e-3f))
            .Output("y");
        yield return new object[] { "BatchNormalization-7 spatial", BatchNorm(7, 1, statistics) };
        yield return new object[] { "BatchNormalization-7 per element", BatchNorm(7, 0, elementStatistics) };
        yield return new object[] { "BatchNormalization-8 per element", BatchNorm(8, 0, elementStatistics) };
        foreach (string mode in new[] { "nearest", "linear" })
        {
            yield return new object[] { $"Upsample-7 {mode}", Unary(7, "Upsample", ("mode", mode), ("scales", new[] { 1f, 1f, 2f, 3f })) };
            // Upsample-10 is valid ONNX, but ONNX Runtime refuses it as deprecated, so there is nothing to compare with.
            foreach (var (opset, op) in new[] { (9, "Upsample"), (10, "Resize") })
                yield return new object[]
                {
                    $"{op}-{opset} {mode}", new OldOpsetModel(opset).Input("x", x).Initializer("scales", tensor(new[] { 1f, 1f, 1.5f, 2f }))
                        .Node(op, new[] { "x", "scales" }, new[] { "y" }, ("mode", mode)).Output("y"),
                };
        }
        yield return new object[] { "Resize-10 downscale", new OldOpsetModel(10).Input("x", x).Initializer("scales", tensor(new[] { 1f, 1f, 0.5f, 0.6f }))
            .Node("Resize", new[] { "x", "scales" }, new[] { "y" }, ("mode", "nearest")).Output("y") };
        yield return new object[] { "Slice-7 axes", Unary(7, "Slice", ("starts", new long[] { 1, -3 }), ("ends", new long[] { long.MaxValue, -1 }), ("axes", new long[] { 1, 3 })) };
        yield return new object[] { "Slice-9 all axes", Unary(9, "Slice", ("starts", new long[] { 0, 1, 1, 0 }), ("ends", new long[] { 1, 3, 100, -2 })) };
        yield return new object[] { "Pad-7 constant", Unary(7, "Pad", ("pads", new long[] { 0, 0, 1, 2, 0, 1, 0, 3 }), ("value", 1.5f)) };
        yield return new object[] { "Pad-10 reflect", Unary(10, "Pad", ("mode", "reflect"), ("pads", new long[] { 0, 0, 2, 1, 0, 0, 1, 2 })) };
        yield return new object[] { "Pad-8 edge", Unary(8, "Pad", ("mode", "edge"), ("pads", new long[] { 0, 1, 0, 0, 0, 0, 2, 0 })) };
        yield return new object[] { "Clip-7 min and max", Unary(7, "Clip", ("min", -0.5f), ("max", 0.25f)) };
        yield return new object[] { "Clip-10 max only", Unary(10, "Clip", ("max", 0.1f)) };
        yield return new object[] { "Clip-9 no bounds", Unary(9, "Clip") };
        yield return new object[] { "TopK-7", new OldOpsetModel(7).Input("x", x).Node("TopK", new[] { "x" }, new[] { "values", "indices" }, ("k", 2L), ("axis", 2L))
            .Output("values").Output("indices", DataType.Int64) };
        yield return new object[] { "TopK-10", new OldOpsetModel(10).Input("x", x).Initializer("k", tensor(new long[] { 3 }))
            .Node("TopK", new[] { "x", "k" }, new[] { "values", "indices" }).Output("values").Output("indices", DataType.Int64) };
        yield return new object[] { "Dropout-7", Unary(7, "Dropout", ("ratio", 0.3f)) };
        yield return new object[] { "Dropout-10", Unary(10, "Dropout", ("ratio", 0.3f)) };
        foreach (int opset in new[] { 9, 10 })
            yield return new object[]
            {
                $"Scatter-{opset}", new OldOpsetModel(opset).Input("data", 4, 5).Input("updates", 2, 5)
                    .Initializer("indices", tensor(new long[] { 3, 0, 1, 2, 3, 1, 2, 0, 3, 0 }).reshape(2, 5))
                    .Node("Scatter", new[] { "data", "indices", "updates" }, new[] { "y" }, ("axis", 0L)).Output("y"),
            };
    }

    [Theory]
    [MemberData(nameof(SingleOps))]
    public void Each_adapter_agrees_with_onnx_runtime_on_the_old_opset_file(string name, OldOpsetModel model)
    {
        using var folder = new TestGraphs.TempFolder();
        string path = model.Write(folder.File("op.onnx"));
        var graph = OnnxFile.Read(path);
        Assert.Equal(OpsetConversion.Target, graph.Opset);
        Assert.True(graph.SourceOpset < OpsetConversion.Target, name);
        AssertAgrees(path);
    }

    [Theory]
    [MemberData(nameof(SingleOps))]
    public void Each_adapter_round_trips_to_its_old_opset(string name, OldOpsetModel model)
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = OnnxFile.Read(model.Write(folder.File("op.onnx")));
        PruneSharp.Graph.Graph old;
        try
        {
            old = OpsetConversion.Downgrade(graph, graph.SourceOpset!.Value);
        }
        catch (GraphException e) when (name.StartsWith("BatchNormalization") && name.EndsWith("per element"))
        {
            // Per-element normalisation, decomposed on import, stays in its opset-11 form; the refusal names the node.
            Assert.Contains("cannot be written at opset", e.Message);
            return;
        }
        OnnxFile.Write(old, folder.File("down.onnx"));
        AssertAgrees(folder.File("down.onnx"));
    }

    [Fact]
    public void Unknown_and_later_ops_at_an_old_opset_are_refused_by_name()
    {
        using var folder = new TestGraphs.TempFolder();
        string scaler = new OldOpsetModel(8).Input("x", 1, 3, 2, 2)
            .Node("ImageScaler", new[] { "x" }, new[] { "y" }, ("scale", 2f)).Output("y").Write(folder.File("scaler.onnx"));
        var error = Assert.Throws<UnsupportedOpException>(() => OnnxFile.Read(scaler));
        Assert.Contains("ImageScaler", error.Message);
        Assert.Contains("scaler.onnx", error.Message);
        Assert.Contains("opset 8", error.Message);

        string expand = new OldOpsetModel(7).Input("x", 1, 3).Initializer("shape", tensor(new long[] { 2, 3 }))
            .Node("Expand", new[] { "x", "shape" }, new[] { "y" }).Output("y").Write(folder.File("expand.onnx"));
        Assert.Contains("added at opset 8", Assert.Throws<UnsupportedOpException>(() => OnnxFile.Read(expand)).Message);
    }

    [Fact]
    public void Malformed_old_nodes_are_refused_naming_the_file_node_and_attribute()
    {
        using var folder = new TestGraphs.TempFolder();
        string slice = new OldOpsetModel(9).Input("x", 2, 3).Node("Slice", new[] { "x" }, new[] { "y" }, ("ends", new long[] { 1 }))
            .Output("y").Write(folder.File("slice.onnx"));
        var error = Assert.Throws<OnnxFormatException>(() => OnnxFile.Read(slice));
        Assert.Contains("slice.onnx", error.Message);
        Assert.Contains("'Slice_0'", error.Message);
        Assert.Contains("'starts'", error.Message);

        string upsample = new OldOpsetModel(7).Input("x", 1, 1, 2, 2).Node("Upsample", new[] { "x" }, new[] { "y" })
            .Output("y").Write(folder.File("upsample.onnx"));
        Assert.Contains("'scales'", Assert.Throws<OnnxFormatException>(() => OnnxFile.Read(upsample)).Message);

        string clip = new OldOpsetModel(7).Input("x", 2).Node("Clip", Array.Empty<string>(), new[] { "y" }).Output("y").Write(folder.File("clip.onnx"));
        Assert.Contains("first input", Assert.Throws<OnnxFormatException>(() => OnnxFile.Read(clip)).Message);
    }

    [Fact]
    public void A_read_dropout_mask_is_cast_back_to_the_data_type_it_had()
    {
        // ONNX Runtime fills the mask with zeros in inference and the executor with ones, so this compares the graph, not values.
        using var folder = new TestGraphs.TempFolder();
        var graph = OnnxFile.Read(new OldOpsetModel(7).Input("x", 2, 3).Node("Dropout", new[] { "x" }, new[] { "y", "mask" }, ("ratio", 0.3f))
            .Output("y").Output("mask").Write(folder.File("dropout.onnx")));
        var cast = Assert.Single(graph.Nodes, n => n.OpType == "Cast");
        Assert.Equal("mask", cast.Outputs.Single());
        Assert.Equal((long)DataType.Float, cast.GetInt("to", 0));
        Assert.Equal(cast.Inputs.Single(), graph.Nodes.Single(n => n.OpType == "Dropout").Outputs[1]);
        Assert.Contains("boolean mask", Assert.Throws<GraphException>(() => OpsetConversion.Downgrade(graph, 7)).Message);
    }

    [Fact]
    public void Downgrade_names_a_node_the_old_opset_cannot_express()
    {
        var graph = OnnxFile.Read(Fixture(9));
        var resize = graph.Nodes.First(n => n.OpType == "Resize");
        resize.Attributes["coordinate_transformation_mode"] = AttributeValue.FromString("half_pixel");
        var error = Assert.Throws<GraphException>(() => OpsetConversion.Downgrade(graph, 9));
        Assert.Contains($"'{resize.Name}'", error.Message);
        Assert.Contains("half_pixel", error.Message);

        var fresh = OnnxFile.Read(Fixture(9));
        fresh.Nodes.Add(new Node("range", "Range", new[] { "a", "b", "c" }, new[] { "r" }));
        Assert.Contains("Range", Assert.Throws<GraphException>(() => OpsetConversion.Downgrade(fresh, 9)).Message);
    }
}
