namespace PruneSharp.Graph;

/// <summary>A graph is malformed or cannot be executed; the message names the node, value or field at fault.</summary>
public class GraphException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A node's op type (or its opset) is not supported by the executor.</summary>
public sealed class UnsupportedOpException(string message) : GraphException(message);
