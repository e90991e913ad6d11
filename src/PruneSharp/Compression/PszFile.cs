namespace PruneSharp.Compression;

/// <summary>
/// The content of a <c>.psz</c> file (layout in docs/compression.md): an ONNX model whose shared-weight layers have no
/// data, and those layers' shared weights.
/// </summary>
/// <param name="Model">The serialised ONNX model; the initializers named by <paramref name="Layers"/> carry dims and type but no data.</param>
/// <param name="Layers">The shared-weight layers, in the order they are stored.</param>
public sealed record PszFile(byte[] Model, IReadOnlyList<SharedLayer> Layers);
