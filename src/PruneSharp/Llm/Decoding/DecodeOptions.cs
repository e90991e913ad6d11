namespace PruneSharp.Llm.Decoding;

/// <summary>How an <see cref="IncrementalDecoder"/> runs the decoder's linear projections.</summary>
public sealed record DecodeOptions
{
    /// <summary>
    /// Run projections with enough zeros (<see cref="MinSparsity"/>) from a compact matrix (N:M when every group
    /// fits one of <see cref="Sparse.NmMatrix.Patterns"/>, CSR otherwise) and free their dense weights.
    /// False: every projection stays dense (libtorch).
    /// </summary>
    public bool Sparse { get; init; }

    /// <summary>
    /// The fraction of zeros from which a projection is considered for the compact path. CSR with 16-bit column
    /// indices stores 6 bytes per kept weight, so it reads fewer bytes than dense only above 1/3 sparsity; the default,
    /// 0.4, leaves some margin for its less regular access.
    /// </summary>
    public double MinSparsity { get; init; } = 0.4;

    /// <summary>
    /// When above 0, each candidate projection is timed dense against compact at one token
    /// (<see cref="Sparse.KernelChoice.Measure"/>, this many alternating rounds) and keeps the faster; 0 takes the
    /// compact kernel for every candidate.
    /// </summary>
    public int MeasureRounds { get; init; }

    /// <summary>Threads of the sparse kernels (give libtorch the same with <c>torch.set_num_threads</c> for a fair comparison).</summary>
    public int Threads { get; init; } = 1;
}
