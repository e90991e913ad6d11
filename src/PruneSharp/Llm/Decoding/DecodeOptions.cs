namespace PruneSharp.Llm.Decoding;

/// <summary>How an <see cref="IncrementalDecoder"/> runs the decoder's linear projections.</summary>
public sealed record DecodeOptions
{
    /// <summary>
    /// Run projections with enough zeros (<see cref="MinSparsity"/>) from a compact matrix
    /// (<see cref="Sparse.BitmapMatrix"/> or, from 86 % sparsity on, <see cref="Sparse.CsrMatrix"/>: the measured rule of
    /// <see cref="Sparse.UnstructuredFormat"/>; N:M instead when every group fits one of
    /// <see cref="Sparse.NmMatrix.Patterns"/> and it stores fewer bytes) and free their dense weights.
    /// False: every projection stays dense (libtorch).
    /// </summary>
    public bool Sparse { get; init; }

    /// <summary>
    /// The fraction of zeros from which a projection is considered for the compact path. The bitmap format reads fewer
    /// bytes than dense from 1/32 sparsity on (CSR with 16-bit column indices only above 1/3), but its kernel does more
    /// per weight than a dense one; the default, 0.4, leaves margin for that.
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
