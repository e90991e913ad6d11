using PruneSharp.Metrics;
using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// A pruned linear layer: libtorch's dense product against the sparse kernels (CSR for unstructured sparsity, the
/// compact format for N:M, and the bitmap format for both) on the same weight and input, alternating, at several batch
/// sizes; and with
/// <c>--crossover</c> the sparsity from which on the CSR kernel wins, per shape.
/// </summary>
sealed class SparseLinearBench : IBenchmark
{
    public string Name => "sparse-linear";

    public string Description => "dense libtorch vs sparse kernels (CSR or N:M, and bitmap) on one Linear: [--shape 4096x4096] [--sparsity 0.9,0.7,2:4] [--batch 1,16] [--threads 2] [--rounds 15] " +
        "[--crossover 4096x4096,1024x1024,...] (crossover: sweep 0.3..0.98 per shape and batch); each row also gives the fastest rounds (dense / sparse / bitmap) and bitmap's time over the other format's";

    public int Run(string[] args)
    {
        var shape = new[] { 4096, 4096 };
        string[] sparsities = { "0.9", "0.7", "2:4" };
        int[] batches = { 1, 16 };
        int threads = 2, rounds = 15;
        string[]? crossover = null;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--shape": shape = Dims(args[++i]); break;
                case "--sparsity": sparsities = args[++i].Split(','); break;
                case "--batch": batches = args[++i].Split(',').Select(int.Parse).ToArray(); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--rounds": rounds = int.Parse(args[++i]); break;
                case "--crossover": crossover = args[++i].Split(','); break;
                default: Console.Error.WriteLine($"unknown argument '{args[i]}'"); return 2;
            }
        set_num_threads(threads);
        Console.WriteLine($"{threads} threads (libtorch and sparse kernels), median of {rounds} alternating rounds; Vector512 {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "on" : "off")}, AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}");
        if (crossover != null) return Crossover(crossover, batches, threads, rounds);

        var generator = new Generator(1);
        Console.WriteLine($"Linear {shape[0]}x{shape[1]} (out x in), no bias");
        Console.WriteLine($"  {"weight",-14} {"format",-6} {"MB",7} {"batch",5} {"dense ms",9} {"sparse ms",9} {"speedup",8} {"bitmap MB",9} {"bitmap ms",9} {"speedup",8}");
        foreach (string sparsity in sparsities)
        {
            using var scope = NewDisposeScope();
            var (weight, matrix) = Weight(shape[0], shape[1], sparsity, generator);
            var bitmap = BitmapMatrix.FromTensor(weight);
            foreach (int batch in batches)
            {
                var x = randn(new long[] { batch, shape[1] }, generator: generator);
                var stats = AlternatingTimer.Measure(rounds, [
                    () => { using var y = nn.functional.linear(x, weight); },
                    () => { using var y = SparseKernels.Linear(matrix, x, threads); },
                    () => { using var y = SparseKernels.Linear(bitmap, x, threads); }]);
                double dense = stats[0].Median, sparse = stats[1].Median, packed = stats[2].Median;
                Console.WriteLine($"  {Label(sparsity),-14} {matrix.Format,-6} {matrix.StorageBytes / 1e6,7:F1} {batch,5} {dense * 1e3,9:F3} {sparse * 1e3,9:F3} {dense / sparse,7:F2}x " +
                                  $"{bitmap.StorageBytes / 1e6,9:F1} {packed * 1e3,9:F3} {dense / packed,7:F2}x   fastest {stats[0].Fastest * 1e3:F3} / {stats[1].Fastest * 1e3:F3} / {stats[2].Fastest * 1e3:F3} ms, " +
                                  $"bitmap/{matrix.Format} median {packed / sparse:F2}, fastest {stats[2].Fastest / stats[1].Fastest:F2}");
            }
        }
        Console.WriteLine($"  (dense weight {4.0 * shape[0] * shape[1] / 1e6:F1} MB)");
        return 0;
    }

    static int Crossover(string[] shapes, int[] batches, int threads, int rounds)
    {
        double[] sweep = { 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98 };
        Console.WriteLine($"crossover: lowest sparsity from which on CSR beats dense (sweep {string.Join(", ", sweep)}); speedups dense/CSR at each point");
        foreach (var dims in shapes.Select(Dims))
            foreach (int batch in batches)
            {
                var c = KernelChoice.Sweep(dims[0], dims[1], batch, sweep, threads, rounds, seed: 3);
                string points = string.Join(" ", c.Points.Select(p => $"{p.Sparsity:0.##}:{p.Measurement.Speedup:F2}"));
                Console.WriteLine($"  {dims[0]}x{dims[1]} batch {batch,3}: crossover {(c.Sparsity is double s ? $"{s:P0}" : "none"),5}   {points}");
            }
        return 0;
    }

    static (Tensor Weight, SparseMatrix Matrix) Weight(int rows, int columns, string sparsity, Generator generator)
    {
        if (sparsity.Contains(':'))
        {
            var parts = sparsity.Split(':').Select(int.Parse).ToArray();
            var dense = randn(new long[] { rows, columns / parts[1], parts[1] }, generator: generator);
            using var order = dense.abs().argsort(dim: -1, descending: true);
            using var mask = zeros_like(dense).scatter_(-1, order.slice(-1, 0, parts[0], 1), ones_like(dense));
            var weight = (dense * mask).reshape(rows, columns);
            return (weight, NmMatrix.FromTensor(weight, parts[0], parts[1]));
        }
        var unstructured = KernelChoice.RandomSparse(rows, columns, double.Parse(sparsity, System.Globalization.CultureInfo.InvariantCulture), generator);
        return (unstructured, CsrMatrix.FromTensor(unstructured));
    }

    static string Label(string sparsity) => sparsity.Contains(':') ? sparsity : $"{double.Parse(sparsity, System.Globalization.CultureInfo.InvariantCulture):P0} unstr.";

    static int[] Dims(string text) => text.Split('x').Select(int.Parse).ToArray();
}
