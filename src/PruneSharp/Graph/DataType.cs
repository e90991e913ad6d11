using TorchSharp;

namespace PruneSharp.Graph;

/// <summary>Element types, numbered as ONNX's <c>TensorProto.DataType</c>.</summary>
public enum DataType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>32-bit float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string (not executable here).</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>IEEE half precision.</summary>
    Float16 = 10,
    /// <summary>64-bit float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex of two 32-bit floats.</summary>
    Complex64 = 14,
    /// <summary>Complex of two 64-bit floats.</summary>
    Complex128 = 15,
    /// <summary>Brain float 16.</summary>
    BFloat16 = 16,
}

/// <summary>Conversions between ONNX element types and TorchSharp scalar types.</summary>
public static class DataTypes
{
    /// <summary>The TorchSharp scalar type for an ONNX element type.</summary>
    /// <exception cref="NotSupportedException">The type has no TorchSharp equivalent (string, unsigned wider than 8 bits).</exception>
    public static torch.ScalarType ToScalarType(this DataType type) => type switch
    {
        DataType.Float => torch.ScalarType.Float32,
        DataType.Double => torch.ScalarType.Float64,
        DataType.Float16 => torch.ScalarType.Float16,
        DataType.BFloat16 => torch.ScalarType.BFloat16,
        DataType.UInt8 => torch.ScalarType.Byte,
        DataType.Int8 => torch.ScalarType.Int8,
        DataType.Int16 => torch.ScalarType.Int16,
        DataType.Int32 => torch.ScalarType.Int32,
        DataType.Int64 => torch.ScalarType.Int64,
        DataType.Bool => torch.ScalarType.Bool,
        DataType.Complex64 => torch.ScalarType.ComplexFloat32,
        DataType.Complex128 => torch.ScalarType.ComplexFloat64,
        _ => throw new NotSupportedException($"element type {type} has no tensor equivalent here"),
    };

    /// <summary>The ONNX element type of a TorchSharp scalar type.</summary>
    public static DataType ToDataType(this torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => DataType.Float,
        torch.ScalarType.Float64 => DataType.Double,
        torch.ScalarType.Float16 => DataType.Float16,
        torch.ScalarType.BFloat16 => DataType.BFloat16,
        torch.ScalarType.Byte => DataType.UInt8,
        torch.ScalarType.Int8 => DataType.Int8,
        torch.ScalarType.Int16 => DataType.Int16,
        torch.ScalarType.Int32 => DataType.Int32,
        torch.ScalarType.Int64 => DataType.Int64,
        torch.ScalarType.Bool => DataType.Bool,
        torch.ScalarType.ComplexFloat32 => DataType.Complex64,
        torch.ScalarType.ComplexFloat64 => DataType.Complex128,
        _ => throw new NotSupportedException($"scalar type {type} has no ONNX equivalent"),
    };

    /// <summary>True for floating-point types (those whose initializers become trainable parameters).</summary>
    public static bool IsFloatingPoint(this DataType type) =>
        type is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;
}
