using PruneSharp.Metrics;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>Which implementation runs a layer.</summary>
public enum KernelKind
{
    /// <summary>A dense product: libtorch's in the executor, the plan's own dense loop in a <see cref="CompiledPlan"/>.</summary>
    Dense,
    /// <summary>A <see cref="SparseKernels"/> product over the layer's <see cref="SparseMatrix"/> (a convolution through im2col).</summary>
    Sparse,
    /// <summary>A convolution by <see cref="DirectConvolution"/> over the non-zero weights, without im2col (compiled plans).</summary>
    SparseDirect,
    /// <summary>A <see cref="SparseKernels"/> product over the layer's matrix when it is a <see cref="BitmapMatrix"/> (an unstructured weight below <see cref="UnstructuredFormat.CsrFromSparsity"/>).</summary>
    SparseBitmap,
}

/// <summary>Names of kernels as the CLI prints them.</summary>
internal static class KernelNames
{
    public static string Of(KernelKind kind) => kind switch
    {
        KernelKind.Dense => "dense",
        KernelKind.Sparse => "sparse",
        KernelKind.SparseBitmap => "sparse bitmap",
        _ => "sparse direct",
    };
}

/// <summary>Dense and sparse latency of one layer at one input shape, measured side by side.</summary>
/// <param name="Dense">The dense product's latency.</param>
/// <param name="Sparse">The sparse product's latency.</param>
/// <param name="SparseKernel">Which sparse kernel <paramref name="Sparse"/> timed.</param>
public sealed record KernelMeasurement(LatencyStats Dense, LatencyStats Sparse, KernelKind SparseKernel = KernelKind.Sparse)
{
    /// <summary>The faster kernel by median.</summary>
    public KernelKind Faster => Sparse.Median < Dense.Median ? SparseKernel : KernelKind.Dense;

    /// <summary>Dense median over sparse median (above 1: sparse is faster).</summary>
    public double Speedup => Dense.Median / Sparse.Median;
}

/// <summary>One point of a crossover sweep: a sparsity and what the two kernels took there.</summary>
/// <param name="Sparsity">Fraction of zeros in the random weight.</param>
/// <param name="Measurement">Dense and sparse latency.</param>
public sealed record CrossoverPoint(double Sparsity, KernelMeasurement Measurement);

/// <summary>Where sparse overtakes dense for a linear layer of one shape at one batch size.</summary>
/// <param name="Rows">Output features.</param>
/// <param name="Columns">Input features.</param>
/// <param name="Batch">Examples per call.</param>
/// <param name="Points">The sweep, in increasing sparsity.</param>
public sealed record Crossover(int Rows, int Columns, int Batch, IReadOnlyList<CrossoverPoint> Points)
{
    /// <summary>
    /// The lowest sparsity of the sweep from which on the sparse kernel is faster at every higher sparsity measured,
    /// or null if it is not faster at the highest.
    /// </summary>
    public double? Sparsity
    {
        get
        {
            double? from = null;
            for (int i = Points.Count - 1; i >= 0 && Points[i].Measurement.Faster == KernelKind.Sparse; i--) from = Points[i].Sparsity;
            return from;
        }
    }
}

/// <summary>
/// Chooses between a layer's dense and sparse kernel by measuring both on the same input, and finds the crossover
/// sparsity of a shape: where the sparse kernel starts to win depends on the shape, the batch and the machine, so it is
/// measured rather than assumed.
/// </summary>
public static class KernelChoice
{
    /// <summary>Times <paramref name="dense"/> and <paramref name="sparse"/> alternately for <paramref name="rounds"/> rounds.</summary>
    public static KernelMeasurement Measure(Action dense, Action sparse, int rounds)
    {
        var stats = AlternatingTimer.Measure(rounds, new[] { dense, sparse });
        return new KernelMeasurement(stats[0], stats[1]);
    }

    /// <summary>
    /// Sweeps <paramref name="sparsities"/> for a linear layer [rows, columns] at <paramref name="batch"/> examples:
    /// a random weight with that fraction of zeros (uniformly placed), libtorch's dense product against the CSR kernel.
    /// libtorch uses the threads it is set to (<c>torch.set_num_threads</c>); pass the same <paramref name="threads"/>.
    /// </summary>
    public static Crossover Sweep(int rows, int columns, int batch, IReadOnlyList<double> sparsities, int threads, int rounds, long seed = 0)
    {
        if (sparsities.Any(s => s is < 0 or >= 1)) throw new ArgumentException("sparsities must lie in [0, 1)");
        var generator = new Generator((ulong)seed);
        var points = new List<CrossoverPoint>();
        using var x = randn(new long[] { batch, columns }, generator: generator);
        foreach (double sparsity in sparsities.Order())
        {
            using var scope = NewDisposeScope();
            var weight = RandomSparse(rows, columns, sparsity, generator);
            var matrix = CsrMatrix.FromTensor(weight);
            var measurement = Measure(
                () => { using var y = nn.functional.linear(x, weight); },
                () => { using var y = SparseKernels.Linear(matrix, x, threads); },
                rounds);
            points.Add(new CrossoverPoint(sparsity, measurement));
        }
        return new Crossover(rows, columns, batch, points);
    }

    /// <summary>A standard-normal matrix with <paramref name="sparsity"/> of its entries (exactly, rounded) set to zero at random places.</summary>
    public static Tensor RandomSparse(int rows, int columns, double sparsity, Generator generator)
    {
        var weight = randn(new long[] { rows, columns }, generator: generator);
        long zeros = (long)Math.Round(sparsity * rows * columns);
        if (zeros == 0) return weight;
        using var order = randperm((long)rows * columns, generator: generator);
        using var flat = weight.view(-1);
        flat.index_fill_(0, order.slice(0, 0, zeros, 1), 0);
        return weight;
    }
}
