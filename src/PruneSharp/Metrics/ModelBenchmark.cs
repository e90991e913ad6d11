using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Metrics;

/// <summary>Settings of <see cref="ModelBenchmark.Run"/>.</summary>
public sealed record ModelBenchmarkOptions
{
    /// <summary>A second model timed alongside (e.g. the dense original of a pruned file); ratios are read against it.</summary>
    public string? Baseline { get; init; }
    /// <summary>Batch sizes (a symbolic batch dimension of every input), each measured separately.</summary>
    public IReadOnlyList<int> Batches { get; init; } = new[] { 1 };
    /// <summary>Threads of every contender: ONNX Runtime intra-op, libtorch and the sparse kernels.</summary>
    public int Threads { get; init; } = 2;
    /// <summary>Alternating rounds per batch size.</summary>
    public int Rounds { get; init; } = 20;
    /// <summary>Also time the model in PruneSharp's dense executor (libtorch) and as a <see cref="SparseModel"/>.</summary>
    public bool Sparse { get; init; }
    /// <summary>Settings of the sparse model (its thread count is <see cref="Threads"/>).</summary>
    public SparseModelOptions SparseOptions { get; init; } = new();
    /// <summary>Input shapes and tensors; the batch of each measurement sets a symbolic batch dimension.</summary>
    public InputSynthesisOptions Inputs { get; init; } = new();
}

/// <summary>One contender's latency at one batch size.</summary>
/// <param name="Name">What ran: <c>onnxruntime</c>, <c>onnxruntime baseline</c>, <c>libtorch dense</c>, <c>sparse</c>.</param>
/// <param name="Latency">Median and spread.</param>
/// <param name="Speedup">The reference's median over this one's: the baseline in ONNX Runtime when given; for the sparse row
/// without a baseline, the faster of the model's dense runs (ONNX Runtime, libtorch).</param>
public sealed record BenchmarkRow(string Name, LatencyStats Latency, double? Speedup);

/// <summary>The contenders at one batch size.</summary>
/// <param name="Batch">Examples per call.</param>
/// <param name="InputShapes">The input shapes used, by name.</param>
/// <param name="Rows">One row per contender.</param>
public sealed record BenchmarkBatch(int Batch, IReadOnlyDictionary<string, long[]> InputShapes, IReadOnlyList<BenchmarkRow> Rows);

/// <summary>What <see cref="ModelBenchmark.Run"/> measured.</summary>
/// <param name="Model">The model file.</param>
/// <param name="Baseline">The baseline file, or null.</param>
/// <param name="Threads">Threads of every contender.</param>
/// <param name="Rounds">Alternating rounds per batch.</param>
/// <param name="Batches">Results per batch size.</param>
/// <param name="SparseLayers">With <see cref="ModelBenchmarkOptions.Sparse"/>, the sparse model's layers (their kernel decisions per input shape); otherwise empty.</param>
/// <param name="SparsePlan">With <see cref="ModelBenchmarkOptions.Sparse"/>, whether the sparse model ran as a compiled plan; otherwise null.</param>
public sealed record ModelBenchmarkReport(string Model, string? Baseline, int Threads, int Rounds, IReadOnlyList<BenchmarkBatch> Batches, IReadOnlyList<SparseLayer> SparseLayers,
    PlanSummary? SparsePlan = null);

/// <summary>
/// Latency of a model file side by side with its alternatives in one process: ONNX Runtime on the model (and on a
/// baseline file), and with <see cref="ModelBenchmarkOptions.Sparse"/> PruneSharp's dense executor and its sparse
/// runtime. Contenders run alternately (<see cref="AlternatingTimer"/>), all on the same inputs and thread count;
/// ONNX Runtime's idle threads sleep rather than spin, so that they do not take the cores from the next contender.
/// </summary>
public static class ModelBenchmark
{
    /// <summary>Runs the benchmark. libtorch's thread count is set to <see cref="ModelBenchmarkOptions.Threads"/> for its duration.</summary>
    /// <exception cref="ArgumentException">Options are out of range or an input is wrong.</exception>
    /// <exception cref="GraphException">A model cannot be run.</exception>
    public static ModelBenchmarkReport Run(string model, ModelBenchmarkOptions options, CancellationToken cancellation = default)
    {
        if (options.Threads < 1) throw new ArgumentException($"threads must be at least 1, got {options.Threads}");
        if (options.Rounds < 1) throw new ArgumentException($"rounds must be at least 1, got {options.Rounds}");
        if (options.Batches.Count == 0 || options.Batches.Any(b => b < 1)) throw new ArgumentException($"batch sizes must be at least 1, got {string.Join(",", options.Batches)}");
        var graph = OnnxFile.Read(model);
        int previousThreads = get_num_threads();
        set_num_threads(options.Threads);
        try
        {
            using var runtime = new OnnxRuntimeRunner(model, options.Threads, spinning: false);
            using var baseline = options.Baseline is { } other ? new OnnxRuntimeRunner(other, options.Threads, spinning: false) : null;
            using var dense = options.Sparse ? new GraphModule(graph) : null;
            dense?.eval();
            using var sparse = options.Sparse ? new SparseModel(graph, options.SparseOptions with { Threads = options.Threads }) : null;
            var batches = new List<BenchmarkBatch>();
            foreach (int batch in options.Batches)
            {
                using var scope = NewDisposeScope();
                var plans = InputSynthesis.Plan(graph, options.Inputs with { BatchSize = batch });
                using var generator = new Generator(0);
                var inputs = InputSynthesis.Generate(plans, generator);
                var feed = graph.Inputs.Select((input, k) => (input.Name, inputs[k])).ToDictionary(p => p.Name, p => p.Item2);
                var names = new List<string> { "onnxruntime" };
                var actions = new List<Action> { () => { using var s = NewDisposeScope(); runtime.Run(feed); } };
                if (baseline != null)
                {
                    names.Add("onnxruntime baseline");
                    actions.Add(() => { using var s = NewDisposeScope(); baseline.Run(feed); });
                }
                if (dense != null && sparse != null)
                {
                    names.Add("libtorch dense");
                    actions.Add(() => { using var s = NewDisposeScope(); using (no_grad()) dense.Run(inputs); });
                    names.Add("sparse");
                    // The first call measures each layer's kernels for these shapes; it stays out of the timing.
                    using (NewDisposeScope()) sparse.Run(inputs);
                    actions.Add(() => { using var s = NewDisposeScope(); sparse.Run(inputs); });
                }
                var stats = AlternatingTimer.Measure(options.Rounds, actions, cancellation);
                batches.Add(new BenchmarkBatch(batch, plans.ToDictionary(p => p.Name, p => p.Shape), Rows(names, stats, baseline != null)));
            }
            return new ModelBenchmarkReport(model, options.Baseline, options.Threads, options.Rounds, batches, sparse?.Layers ?? Array.Empty<SparseLayer>(), sparse?.PlanSummary);
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    static List<BenchmarkRow> Rows(List<string> names, IReadOnlyList<LatencyStats> stats, bool hasBaseline)
    {
        double reference = hasBaseline ? stats[1].Median
            : names.Contains("sparse") ? Math.Min(stats[0].Median, stats[names.IndexOf("libtorch dense")].Median)
            : double.NaN;
        return names.Select((name, i) => new BenchmarkRow(name, stats[i],
            double.IsNaN(reference) || (!hasBaseline && name != "sparse") ? null : reference / stats[i].Median)).ToList();
    }
}
