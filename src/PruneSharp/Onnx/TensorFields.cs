using Google.Protobuf.Collections;

namespace PruneSharp.Onnx.Proto;

/// <summary>The fields of a serialized tensor other than <c>raw_data</c>, shared by <see cref="TensorProto"/> and <see cref="TensorHeaderProto"/>.</summary>
interface ITensorFields
{
    RepeatedField<long> Dims { get; }
    int DataType { get; }
    RepeatedField<float> FloatData { get; }
    RepeatedField<int> Int32Data { get; }
    RepeatedField<long> Int64Data { get; }
    RepeatedField<double> DoubleData { get; }
    RepeatedField<StringStringEntryProto> ExternalData { get; }
    bool HasDataLocation { get; }
    int DataLocation { get; }
}

partial class TensorProto : ITensorFields;

partial class TensorHeaderProto : ITensorFields;
