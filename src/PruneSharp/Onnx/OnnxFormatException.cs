using PruneSharp.Graph;

namespace PruneSharp.Onnx;

/// <summary>
/// An ONNX file cannot be read: it is not a model, it is truncated or garbled, or a field is out of range. The message
/// names the file and the field (or node, or initializer) at fault.
/// </summary>
public sealed class OnnxFormatException(string message, Exception? inner = null) : GraphException(message, inner);
