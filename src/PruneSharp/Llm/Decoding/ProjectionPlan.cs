using PruneSharp.Sparse;

namespace PruneSharp.Llm.Decoding;

/// <summary>How one linear projection is run by an <see cref="IncrementalDecoder"/>.</summary>
/// <param name="TensorName">The checkpoint's name of the weight.</param>
/// <param name="Rows">Output features.</param>
/// <param name="Columns">Input features.</param>
/// <param name="Sparsity">Fraction of the weight that is zero.</param>
/// <param name="Format"><c>dense</c>, <c>bitmap</c>, <c>csr</c> or an N:M pattern such as <c>2:4</c>.</param>
/// <param name="Bytes">Bytes of weight and bias read per token in that format.</param>
/// <param name="Measurement">Dense and compact latency at one token, when measured to choose.</param>
public sealed record ProjectionPlan(string TensorName, long Rows, long Columns, double Sparsity, string Format, long Bytes, KernelMeasurement? Measurement);
