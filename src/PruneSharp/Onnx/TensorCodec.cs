using System.Runtime.InteropServices;
using Google.Protobuf;
using PruneSharp.Graph;
using PruneSharp.Onnx.Proto;
using TorchSharp;

namespace PruneSharp.Onnx;

/// <summary>
/// Converts between ONNX <c>TensorProto</c>s and TorchSharp tensors. Every size is checked against the bytes that are
/// actually present before anything is allocated, so a garbled file cannot ask for an absurd allocation.
/// Data is written straight into a fresh tensor's memory through <c>Tensor.bytes</c>, a view of its CPU buffer.
/// </summary>
static class TensorCodec
{
    /// <summary>ONNX's <c>TensorProto.DataLocation.EXTERNAL</c>.</summary>
    public const int ExternalLocation = 1;

    /// <summary>The bytes one element of <paramref name="type"/> takes, or 0 if PruneSharp cannot hold it in a tensor.</summary>
    public static int ElementSize(DataType type) => type switch
    {
        DataType.Float or DataType.Int32 => 4,
        DataType.UInt8 or DataType.Int8 or DataType.Bool => 1,
        DataType.Int16 or DataType.Float16 or DataType.BFloat16 => 2,
        DataType.Int64 or DataType.Double or DataType.Complex64 => 8,
        DataType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>Decodes a tensor attribute. <paramref name="what"/> names it in errors.</summary>
    public static torch.Tensor Decode(TensorProto proto, string what, ModelSource source) =>
        Decode(proto, proto.HasRawData ? proto.RawData.Span : default, proto.HasRawData, what, source);

    /// <summary>
    /// Decodes a tensor whose <c>raw_data</c>, if <paramref name="hasRaw"/>, is <paramref name="raw"/>.
    /// <paramref name="what"/> names it in errors (e.g. "initializer 'conv.weight'").
    /// </summary>
    public static torch.Tensor Decode(ITensorFields proto, ReadOnlySpan<byte> raw, bool hasRaw, string what, ModelSource source)
    {
        var type = (DataType)proto.DataType;
        if (type == DataType.String)
            throw source.Error($"{what} is a string tensor; PruneSharp holds only numeric and boolean tensors");
        int elementSize = Enum.IsDefined(type) ? ElementSize(type) : 0;
        if (elementSize == 0)
            throw source.Error($"{what} has element type {DescribeType(proto.DataType)}, which PruneSharp does not support");

        long[] dims = proto.Dims.ToArray();
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw source.Error($"{what} has a negative dimension in dims [{string.Join(",", dims)}]");
            if (d != 0 && count > long.MaxValue / elementSize / d)
                throw source.Error($"{what} has dims [{string.Join(",", dims)}], too many elements to be real");
            count *= d;
        }
        long byteCount = count * elementSize;

        if (proto.HasDataLocation && proto.DataLocation == ExternalLocation)
        {
            CheckTensorSize(byteCount, dims, what, source);
            var read = source.Locate(proto, what, byteCount);
            var tensor = torch.empty(dims, type.ToScalarType());
            read(tensor.bytes);
            return Normalized(tensor, type);
        }
        if (hasRaw)
        {
            if (raw.Length != byteCount)
                throw source.Error($"{what}: raw_data has {raw.Length} bytes but dims [{string.Join(",", dims)}] of {type} need {byteCount}");
            var tensor = torch.empty(dims, type.ToScalarType());
            raw.CopyTo(tensor.bytes);
            return Normalized(tensor, type);
        }
        return FromTypedField(proto, type, dims, count, what, source);
    }

    /// <summary>Encodes <paramref name="tensor"/> with its bytes in <c>raw_data</c>.</summary>
    public static TensorProto Encode(torch.Tensor tensor, string name)
    {
        var proto = Header(tensor, name);
        using var cpu = ContiguousCpu(tensor);
        proto.RawData = ByteString.CopyFrom(cpu.bytes);
        return proto;
    }

    /// <summary>The name, dims and element type of <paramref name="tensor"/>, without its data.</summary>
    public static TensorProto Header(torch.Tensor tensor, string name)
    {
        var proto = new TensorProto { Name = name, DataType = (int)tensor.dtype.ToDataType() };
        proto.Dims.AddRange(tensor.shape);
        return proto;
    }

    /// <summary>A contiguous CPU copy (or alias) of <paramref name="tensor"/> whose <c>bytes</c> are its data.</summary>
    public static torch.Tensor ContiguousCpu(torch.Tensor tensor) => tensor.detach().cpu().contiguous();

    /// <summary>The number of data bytes of <paramref name="tensor"/>.</summary>
    public static long ByteCount(torch.Tensor tensor) => tensor.numel() * tensor.ElementSize;

    static string DescribeType(int code) => Enum.IsDefined((DataType)code) ? ((DataType)code).ToString() : $"code {code}";

    static void CheckTensorSize(long byteCount, long[] dims, string what, ModelSource source)
    {
        // Spans (and so the copy into a tensor) hold at most int.MaxValue bytes.
        if (byteCount > Array.MaxLength)
            throw source.Error($"{what} has dims [{string.Join(",", dims)}] ({byteCount} bytes); single tensors over 2 GiB are not supported");
    }

    /// <summary>Booleans stored as bytes other than 0 and 1 are read as true, as ONNX Runtime does.</summary>
    static torch.Tensor Normalized(torch.Tensor tensor, DataType type)
    {
        if (type != DataType.Bool) return tensor;
        Span<byte> bytes = tensor.bytes;
        if (bytes.IndexOfAnyExcept((byte)0, (byte)1) < 0) return tensor;
        for (int i = 0; i < bytes.Length; i++) bytes[i] = bytes[i] == 0 ? (byte)0 : (byte)1;
        return tensor;
    }

    static torch.Tensor FromTypedField(ITensorFields proto, DataType type, long[] dims, long count, string what, ModelSource source)
    {
        // Which typed field carries each element type, and how many of its entries make one element.
        (int available, string field, int perElement) = type switch
        {
            DataType.Float => (proto.FloatData.Count, "float_data", 1),
            DataType.Complex64 => (proto.FloatData.Count, "float_data", 2),
            DataType.Double => (proto.DoubleData.Count, "double_data", 1),
            DataType.Complex128 => (proto.DoubleData.Count, "double_data", 2),
            DataType.Int64 => (proto.Int64Data.Count, "int64_data", 1),
            _ => (proto.Int32Data.Count, "int32_data", 1),
        };
        if (available == 0 && count > 0)
            throw source.Error($"{what} has dims [{string.Join(",", dims)}] but no data (neither raw_data, {field} nor external data)");
        if (available != count * perElement)
            throw source.Error($"{what}: {field} has {available} values but dims [{string.Join(",", dims)}] of {type} need {count * perElement}");

        var tensor = torch.empty(dims, type.ToScalarType());
        if (count == 0) return tensor;
        Span<byte> target = tensor.bytes;
        switch (type)
        {
            case DataType.Float or DataType.Complex64:
                MemoryMarshal.AsBytes<float>(proto.FloatData.ToArray()).CopyTo(target);
                break;
            case DataType.Double or DataType.Complex128:
                MemoryMarshal.AsBytes<double>(proto.DoubleData.ToArray()).CopyTo(target);
                break;
            case DataType.Int64:
                MemoryMarshal.AsBytes<long>(proto.Int64Data.ToArray()).CopyTo(target);
                break;
            case DataType.Int32:
                MemoryMarshal.AsBytes<int>(proto.Int32Data.ToArray()).CopyTo(target);
                break;
            case DataType.Int16:
                for (int i = 0; i < count; i++) MemoryMarshal.Write(target[(2 * i)..], (short)proto.Int32Data[i]);
                break;
            case DataType.Float16 or DataType.BFloat16:
                // 16-bit floats travel as their bit patterns in the low half of each int32.
                for (int i = 0; i < count; i++) MemoryMarshal.Write(target[(2 * i)..], (ushort)proto.Int32Data[i]);
                break;
            case DataType.Bool:
                for (int i = 0; i < count; i++) target[i] = proto.Int32Data[i] != 0 ? (byte)1 : (byte)0;
                break;
            default: // UInt8, Int8: one byte each.
                for (int i = 0; i < count; i++) target[i] = (byte)proto.Int32Data[i];
                break;
        }
        return tensor;
    }
}
