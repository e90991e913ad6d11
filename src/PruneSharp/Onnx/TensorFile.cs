using PruneSharp.Onnx.Proto;
using TorchSharp;

namespace PruneSharp.Onnx;

/// <summary>A single serialized ONNX <c>TensorProto</c> in a file, as ONNX's test data sets store inputs and outputs (<c>input_0.pb</c>).</summary>
public static class TensorFile
{
    /// <summary>Reads the tensor stored at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="OnnxFormatException">The file is not a readable TensorProto; the message names the file.</exception>
    public static torch.Tensor Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tensor file '{path}' does not exist", path);
        using var source = new ModelSource(path, Path.GetDirectoryName(Path.GetFullPath(path)));
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or ArgumentException or OverflowException)
        {
            throw source.Error($"not a serialized TensorProto ({e.Message})", e);
        }
        return TensorCodec.Decode(proto, $"tensor '{proto.Name}'", source);
    }
}
