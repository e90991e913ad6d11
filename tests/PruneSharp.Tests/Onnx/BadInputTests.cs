using Google.Protobuf;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Proto;

namespace PruneSharp.Tests.Onnx;

public class BadInputTests
{
    /// <summary>The small CNN as an ONNX message, to be broken by each test.</summary>
    internal static ModelProto SmallCnnModel()
    {
        using var folder = new TestGraphs.TempFolder();
        OnnxFile.Write(TestGraphs.SmallCnn(), folder.File("m.onnx"));
        return ModelProto.Parser.ParseFrom(File.ReadAllBytes(folder.File("m.onnx")));
    }

    static OnnxFormatException ReadFails(ModelProto model) => ReadFails(model.ToByteArray());

    static OnnxFormatException ReadFails(byte[] bytes)
    {
        using var folder = new TestGraphs.TempFolder();
        File.WriteAllBytes(folder.File("bad.onnx"), bytes);
        var error = Assert.Throws<OnnxFormatException>(() => OnnxFile.Read(folder.File("bad.onnx")));
        Assert.Contains("bad.onnx", error.Message);
        return error;
    }

    [Fact]
    public void Other_file_kinds_are_named()
    {
        Assert.Contains("PNG", ReadFails(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13 }).Message);
        Assert.Contains("zip", ReadFails(new byte[] { (byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0 }).Message);
        Assert.Contains("empty", ReadFails(Array.Empty<byte>()).Message);
        Assert.Contains("not a valid ONNX model", ReadFails("hello, this is plain text\n"u8.ToArray()).Message);
    }

    [Fact]
    public void Truncated_files_are_rejected()
    {
        byte[] bytes = SmallCnnModel().ToByteArray();
        foreach (int length in new[] { 1, 7, bytes.Length / 3, bytes.Length / 2, bytes.Length - 1 })
            ReadFails(bytes[..length]);
    }

    [Fact]
    public void A_length_prefix_claiming_gigabytes_does_not_allocate_them()
    {
        // Field 7 (graph), length-delimited, claiming 2^31 - 1 bytes, followed by only a few.
        ReadFails(new byte[] { 0x08, 0x07, 0x3a, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3 });
    }

    [Fact]
    public void Unsupported_opsets_are_named()
    {
        var model = SmallCnnModel();
        model.OpsetImport[0].Version = 6;
        Assert.Contains("opset 6", ReadFails(model).Message);
        model.OpsetImport[0].Version = 22;
        Assert.Contains("opset 22", ReadFails(model).Message);
        model.OpsetImport.Clear();
        Assert.Contains("opset_import", ReadFails(model).Message);
    }

    [Fact]
    public void A_missing_initializer_names_the_value_and_the_node()
    {
        var model = SmallCnnModel();
        model.Graph.Initializer.Remove(model.Graph.Initializer.First(t => t.Name == "fc.weight"));
        var message = ReadFails(model).Message;
        Assert.Contains("'fc.weight'", message);
        Assert.Contains("'fc'", message);
    }

    [Fact]
    public void Initializer_data_that_does_not_match_its_dims_is_rejected()
    {
        var model = SmallCnnModel();
        var weight = model.Graph.Initializer.First(t => t.Name == "conv.weight");
        weight.Dims[0] = 5;
        var message = ReadFails(model).Message;
        Assert.Contains("initializer 'conv.weight'", message);
        Assert.Contains("raw_data", message);

        weight.Dims[0] = 4;
        weight.ClearRawData();
        weight.FloatData.AddRange(new float[10]);
        Assert.Contains("float_data has 10 values", ReadFails(model).Message);
    }

    [Fact]
    public void Absurd_dims_are_rejected_before_anything_is_allocated()
    {
        var model = SmallCnnModel();
        var weight = model.Graph.Initializer.First(t => t.Name == "conv.weight");
        weight.Dims.Clear();
        weight.Dims.AddRange(new long[] { 1L << 20, 1L << 20 }); // 2^40 floats from a few hundred bytes
        Assert.Contains("conv.weight", ReadFails(model).Message);
        weight.Dims.Clear();
        weight.Dims.AddRange(new long[] { 1L << 40, 1L << 40 }); // overflows a 64-bit count
        Assert.Contains("too many elements", ReadFails(model).Message);
        weight.Dims.Clear();
        weight.Dims.AddRange(new long[] { 4, -3, 3, 3 });
        Assert.Contains("negative", ReadFails(model).Message);
    }

    [Fact]
    public void Typed_fields_are_read_like_raw_data()
    {
        var model = SmallCnnModel();
        var weight = model.Graph.Initializer.First(t => t.Name == "fc.weight");
        float[] values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(weight.RawData.Span).ToArray();
        weight.ClearRawData();
        weight.FloatData.AddRange(values);
        using var folder = new TestGraphs.TempFolder();
        File.WriteAllBytes(folder.File("typed.onnx"), model.ToByteArray());
        var read = OnnxFile.Read(folder.File("typed.onnx"));
        Assert.Equal(values, read.Initializers["fc.weight"].data<float>().ToArray());
    }

    [Fact]
    public void String_initializers_are_refused_by_name()
    {
        var model = SmallCnnModel();
        var text = new TensorProto { Name = "labels", DataType = (int)DataType.String };
        text.Dims.Add(1);
        text.StringData.Add(ByteString.CopyFromUtf8("cat"));
        model.Graph.Initializer.Add(text);
        Assert.Contains("initializer 'labels' is a string tensor", ReadFails(model).Message);
    }

    [Fact]
    public void Cycles_are_reported()
    {
        var model = SmallCnnModel();
        model.Graph.Node.First(n => n.Name == "conv").Input[0] = "r"; // conv reads relu's output, which depends on conv
        Assert.Contains("cycle", ReadFails(model).Message);
    }

    [Fact]
    public void Missing_graph_and_ir_version_are_reported()
    {
        var model = SmallCnnModel();
        model.ClearIrVersion();
        Assert.Contains("ir_version", ReadFails(model).Message);
        model = SmallCnnModel();
        model.Graph = null;
        Assert.Contains("no graph", ReadFails(model).Message);
    }

    [Fact]
    public void A_folder_or_a_missing_file_is_reported_as_such()
    {
        using var folder = new TestGraphs.TempFolder();
        Assert.Contains("folder", Assert.Throws<OnnxFormatException>(() => OnnxFile.Read(folder.Path)).Message);
        Assert.Throws<FileNotFoundException>(() => OnnxFile.Read(folder.File("absent.onnx")));
    }
}
