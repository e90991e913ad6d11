using Google.Protobuf;
using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

public class TensorFileTests
{
    [Fact]
    public void A_serialized_TensorProto_reads_back_with_type_shape_and_values()
    {
        string path = Path.Combine(Path.GetTempPath(), $"prunesharp-tensor-{Guid.NewGuid():N}.pb");
        try
        {
            var x = tensor(new long[,] { { 1, -2, 3 }, { 4, 5, -6 } });
            File.WriteAllBytes(path, TensorCodec.Encode(x, "x").ToByteArray());
            var y = TensorFile.Read(path);
            Assert.Equal(ScalarType.Int64, y.dtype);
            Assert.True(x.Equals(y));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_garbled_file_is_reported_by_name()
    {
        string path = Path.Combine(Path.GetTempPath(), $"prunesharp-garbled-{Guid.NewGuid():N}.pb");
        try
        {
            File.WriteAllBytes(path, new byte[] { 0x0a, 0xff, 0xff, 0xff });
            var error = Assert.Throws<OnnxFormatException>(() => TensorFile.Read(path));
            Assert.Contains(Path.GetFileName(path), error.Message);
            Assert.Throws<FileNotFoundException>(() => TensorFile.Read(path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
