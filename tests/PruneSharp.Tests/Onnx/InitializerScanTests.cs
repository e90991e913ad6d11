using Google.Protobuf;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Proto;

namespace PruneSharp.Tests.Onnx;

public class InitializerScanTests
{
    static TensorProto Floats(string name, params float[] values)
    {
        var t = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(values.Length);
        return t;
    }

    [Fact]
    public void Raw_data_is_found_under_protobuf_merge_rules()
    {
        // Two serialized models back to back are one model whose graphs merge: initializers concatenate.
        var first = BadInputTests.SmallCnnModel();
        var second = new ModelProto { Graph = new GraphProto() };
        second.Graph.Initializer.Add(Floats("extra", 1.5f, -2f));
        byte[] bytes = first.ToByteArray().Concat(second.ToByteArray()).ToArray();
        var ranges = InitializerScan.RawDataRanges(bytes);
        var merged = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(merged.Graph.Initializer.Count, ranges.Count);
        for (int i = 0; i < ranges.Count; i++)
            Assert.Equal(merged.Graph.Initializer[i].RawData.ToByteArray(), bytes[ranges[i]!.Value]);
        var graph = OnnxFile.Read(bytes);
        Assert.Equal(new[] { 1.5f, -2f }, graph.Initializers["extra"].data<float>().ToArray());
    }

    [Fact]
    public void The_last_raw_data_of_a_tensor_wins_and_typed_tensors_have_none()
    {
        var tensor = Floats("w", 1f);
        byte[] later = Floats("w", 7f).RawData.ToByteArray();
        var model = new ModelProto { Graph = new GraphProto() };
        model.Graph.Initializer.Add(tensor);
        var typed = new TensorProto { Name = "t", DataType = 1 };
        typed.Dims.Add(1);
        typed.FloatData.Add(3f);
        model.Graph.Initializer.Add(typed);
        // Append a second raw_data (field 9) to the first tensor's bytes by re-encoding it by hand.
        var tensorBytes = tensor.ToByteArray().Concat(new byte[] { 0x4a, 4 }).Concat(later).ToArray();
        var graphBytes = new[] { (byte)0x2a, (byte)tensorBytes.Length }.Concat(tensorBytes).Concat(typed.ToByteArray() is var t ? new[] { (byte)0x2a, (byte)t.Length }.Concat(t) : null!).ToArray();
        byte[] bytes = new[] { (byte)0x3a, (byte)graphBytes.Length }.Concat(graphBytes).ToArray();
        var ranges = InitializerScan.RawDataRanges(bytes);
        Assert.Equal(later, bytes[ranges[0]!.Value]);
        Assert.Null(ranges[1]);
        Assert.Equal(later, ModelProto.Parser.ParseFrom(bytes).Graph.Initializer[0].RawData.ToByteArray());
    }
}
