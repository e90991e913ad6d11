using Google.Protobuf;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Proto;

namespace PruneSharp.Tests.Onnx;

public class ExternalDataTests
{
    [Fact]
    public void Initializers_over_the_threshold_go_to_a_side_file_and_read_back()
    {
        using var folder = new TestGraphs.TempFolder();
        var graph = TestGraphs.SmallCnn();
        OnnxFile.Write(graph, folder.File("big.onnx"), externalDataThreshold: 100);
        Assert.True(File.Exists(folder.File("big.onnx.data")));
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(folder.File("big.onnx")));
        Assert.All(model.Graph.Initializer, t =>
        {
            Assert.Equal(1, t.DataLocation);
            Assert.False(t.HasRawData);
            Assert.Equal("big.onnx.data", t.ExternalData.Single(e => e.Key == "location").Value);
        });
        var read = OnnxFile.Read(folder.File("big.onnx"));
        foreach (var (name, value) in graph.Initializers) GraphAssert.TensorIdentical(value, read.Initializers[name], name);

        // Below the threshold everything stays inline.
        OnnxFile.Write(graph, folder.File("small.onnx"), externalDataThreshold: 1 << 20);
        Assert.False(File.Exists(folder.File("small.onnx.data")));
    }

    /// <summary>A model whose conv.weight points at <paramref name="location"/>, written into <paramref name="folder"/>.</summary>
    static string ModelWithLocation(TestGraphs.TempFolder folder, string location, long offset = 0, long? length = null)
    {
        OnnxFile.Write(TestGraphs.SmallCnn(), folder.File("m.onnx"), externalDataThreshold: 0);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(folder.File("m.onnx")));
        var weight = model.Graph.Initializer.First(t => t.Name == "conv.weight");
        weight.ExternalData.Clear();
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        weight.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        if (length != null) weight.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString() });
        File.WriteAllBytes(folder.File("m.onnx"), model.ToByteArray());
        return folder.File("m.onnx");
    }

    static string Rejected(string path) =>
        Assert.Throws<OnnxFormatException>(() => OnnxFile.Read(path)).Message;

    [Fact]
    public void Locations_outside_the_model_folder_are_rejected()
    {
        using var outside = new TestGraphs.TempFolder();
        File.WriteAllBytes(outside.File("secret.bin"), new byte[4096]);
        using var folder = new TestGraphs.TempFolder();
        Directory.CreateDirectory(folder.File("sub"));

        Assert.Contains("relative path", Rejected(ModelWithLocation(folder, outside.File("secret.bin"))));
        Assert.Contains("climbs out", Rejected(ModelWithLocation(folder, $"../{Path.GetFileName(outside.Path)}/secret.bin")));
        Assert.Contains("climbs out", Rejected(ModelWithLocation(folder, "sub/../../x.bin")));

        File.CreateSymbolicLink(folder.File("link.bin"), outside.File("secret.bin"));
        Assert.Contains("symbolic link", Rejected(ModelWithLocation(folder, "link.bin")));
        Directory.CreateSymbolicLink(folder.File("linkdir"), outside.Path);
        Assert.Contains("symbolic link", Rejected(ModelWithLocation(folder, "linkdir/secret.bin")));
    }

    [Fact]
    public void Ranges_past_the_end_and_wrong_lengths_are_rejected()
    {
        using var folder = new TestGraphs.TempFolder();
        File.WriteAllBytes(folder.File("w.bin"), new byte[500]);
        Assert.Contains("too few", Rejected(ModelWithLocation(folder, "w.bin", offset: 400))); // conv.weight needs 432 bytes
        Assert.Contains("too few", Rejected(ModelWithLocation(folder, "w.bin", offset: long.MaxValue)));
        Assert.Contains("length 10", Rejected(ModelWithLocation(folder, "w.bin", length: 10)));
        Assert.Contains("does not exist", Rejected(ModelWithLocation(folder, "absent.bin")));

        // Inside the folder, within bounds, through a symbolic link that stays inside: accepted.
        Directory.CreateDirectory(folder.File("weights"));
        File.WriteAllBytes(folder.File("weights/w.bin"), Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray());
        File.CreateSymbolicLink(folder.File("alias.bin"), folder.File("weights/w.bin"));
        var read = OnnxFile.Read(ModelWithLocation(folder, "alias.bin", offset: 64, length: 432));
        Assert.Equal(Enumerable.Range(64, 432).Select(i => (byte)i), read.Initializers["conv.weight"].bytes.ToArray());
    }

    [Fact]
    public void External_data_without_a_folder_is_refused()
    {
        using var folder = new TestGraphs.TempFolder();
        OnnxFile.Write(TestGraphs.SmallCnn(), folder.File("m.onnx"), externalDataThreshold: 0);
        byte[] bytes = File.ReadAllBytes(folder.File("m.onnx"));
        Assert.Contains("not read from a folder", Assert.Throws<OnnxFormatException>(() => OnnxFile.Read(bytes)).Message);
        Assert.NotEmpty(OnnxFile.Read(bytes, folder.Path).Initializers);
        using var stream = File.OpenRead(folder.File("m.onnx"));
        Assert.NotEmpty(OnnxFile.Read(stream, folder.Path, "m.onnx").Initializers);
    }
}
