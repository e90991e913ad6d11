using TorchSharp;

namespace PruneSharp.Llm.Checkpoints;

/// <summary>The element types of a safetensors file that PruneSharp reads, named as in the format's header.</summary>
public enum SafetensorsDType
{
    /// <summary>64-bit float.</summary>
    F64,
    /// <summary>32-bit float.</summary>
    F32,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16: the upper half of a float32.</summary>
    BF16,
    /// <summary>64-bit signed integer.</summary>
    I64,
    /// <summary>32-bit signed integer.</summary>
    I32,
    /// <summary>16-bit signed integer.</summary>
    I16,
    /// <summary>8-bit signed integer.</summary>
    I8,
    /// <summary>8-bit unsigned integer.</summary>
    U8,
    /// <summary>Boolean, one byte (0 or 1) per element.</summary>
    BOOL,
}

/// <summary>Sizes, names and TorchSharp types of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        _ => 1,
    };

    /// <summary>Whether elements are floating-point numbers.</summary>
    public static bool IsFloatingPoint(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F64 or SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;

    /// <summary>The TorchSharp element type with the same bytes.</summary>
    public static torch.ScalarType ScalarType(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 => torch.ScalarType.Float64,
        SafetensorsDType.F32 => torch.ScalarType.Float32,
        SafetensorsDType.F16 => torch.ScalarType.Float16,
        SafetensorsDType.BF16 => torch.ScalarType.BFloat16,
        SafetensorsDType.I64 => torch.ScalarType.Int64,
        SafetensorsDType.I32 => torch.ScalarType.Int32,
        SafetensorsDType.I16 => torch.ScalarType.Int16,
        SafetensorsDType.I8 => torch.ScalarType.Int8,
        SafetensorsDType.U8 => torch.ScalarType.Byte,
        _ => torch.ScalarType.Bool,
    };

    /// <summary>
    /// Where the Hugging Face writer puts tensors of this dtype: it sorts by its dtype enumeration (BOOL, U8, I8, ...,
    /// I16, F16, BF16, I32, F32, F64, I64), largest first, so that every tensor's data stays aligned.
    /// </summary>
    internal static int WriteOrder(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.I64 => 0,
        SafetensorsDType.F64 => 1,
        SafetensorsDType.F32 => 2,
        SafetensorsDType.I32 => 3,
        SafetensorsDType.BF16 => 4,
        SafetensorsDType.F16 => 5,
        SafetensorsDType.I16 => 6,
        SafetensorsDType.I8 => 7,
        SafetensorsDType.U8 => 8,
        _ => 9,
    };

    /// <summary>The dtype named <paramref name="name"/> in a header (<c>"BF16"</c>), or null if PruneSharp does not know it.</summary>
    public static SafetensorsDType? Parse(string name) =>
        Enum.TryParse<SafetensorsDType>(name, ignoreCase: false, out var dtype) && Enum.IsDefined(dtype) && name == dtype.ToString() ? dtype : null;
}
