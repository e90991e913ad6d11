using System.CommandLine;
using PruneSharp.Sparse;

namespace PruneSharp.Cli.Commands;

/// <summary>The sparse runtime's options, shared by <c>run-sparse</c> and <c>bench --sparse</c>.</summary>
sealed class SparseFlags
{
    public Option<double> MinSparsity { get; } = new("--min-sparsity")
    {
        Description = "Layers whose weight has fewer zeros than this fraction stay dense without being measured.",
        DefaultValueFactory = _ => 0.5,
    };

    public Option<bool> AlwaysSparse { get; } = new("--always-sparse")
    {
        Description = "Run every eligible layer with its sparse kernel instead of keeping the faster of dense and sparse as measured on the first input.",
    };

    public Option<bool> NoNm { get; } = new("--no-nm")
    {
        Description = "Store N:M-sparse weights as CSR instead of the compact N:M format.",
    };

    public Option<bool> NoPlan { get; } = new("--no-plan")
    {
        Description = "Run the graph in the executor with sparse layers even where a compiled plan (preallocated buffers, fused epilogues) could run it.",
    };

    public IEnumerable<Option> All => new Option[] { MinSparsity, AlwaysSparse, NoNm, NoPlan };

    public SparseModelOptions Options(ParseResult parse, int threads) => new()
    {
        Threads = threads,
        MinSparsity = parse.GetValue(MinSparsity),
        Selection = parse.GetValue(AlwaysSparse) ? KernelSelection.Sparse : KernelSelection.Measure,
        UseNm = !parse.GetValue(NoNm),
        Compile = !parse.GetValue(NoPlan),
    };

    /// <summary>One line: compiled plan or executor (and why), then the plan's steps.</summary>
    public static void PrintPlan(PlanSummary plan)
    {
        Console.WriteLine(plan.Compiled ? $"compiled plan: {string.Join(", ", plan.Steps)}" : $"executor (no compiled plan: {plan.Refusal})");
    }

    public static object PlanJson(PlanSummary plan) => new
    {
        compiled = plan.Compiled, refusal = plan.Refusal,
        steps = plan.Steps.Select(s => new { nodes = s.Nodes, op = s.Op, kernel = s.Kernel is { } k ? Name(k) : null }),
    };

    static string Name(KernelKind kind) => kind switch
    {
        KernelKind.SparseDirect => "sparse direct",
        KernelKind.SparseBitmap => "sparse bitmap",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>One row per sparse layer: node, weight, sparsity, format, bytes, and the kernel chosen per input shape.</summary>
    public static void PrintLayers(IReadOnlyList<SparseLayer> layers)
    {
        if (layers.Count == 0)
        {
            Console.WriteLine("no layer has a sparse kernel (no Gemm/MatMul/Conv weight reaches the minimum sparsity)");
            return;
        }
        var rows = layers.Select(l => (IReadOnlyList<string>)new[]
        {
            l.Node.Name, l.Node.OpType, Table.Shape(l.WeightShape), $"{l.Sparsity:P1}", l.Matrix.Format,
            $"{l.Matrix.DenseBytes / 1e3:F1} / {l.Matrix.StorageBytes / 1e3:F1}",
            string.Join("; ", l.Decisions.Select(d => $"{Table.Shape(d.InputShape)}: {Kernel(d)}")),
        });
        Table.Write(Console.Out, new[] { "layer", "op", "weight", "sparsity", "format", "kB dense / sparse", "kernel per input (dense vs sparse ms)" }, rows);
    }

    static string Kernel(LayerDecision d) => Name(d.Kernel) + (d.Compiled ? " (plan" : " (executor")
        + (d.Measurement is { } m ? $" {m.Dense.Median * 1e3:F3} vs {m.Sparse.Median * 1e3:F3})" : ")");

    public static object LayersJson(IReadOnlyList<SparseLayer> layers) => layers.Select(l => new
    {
        node = l.Node.Name, op = l.Node.OpType, weight = l.WeightShape, sparsity = l.Sparsity, format = l.Matrix.Format,
        dense_bytes = l.Matrix.DenseBytes, sparse_bytes = l.Matrix.StorageBytes,
        decisions = l.Decisions.Select(d => new
        {
            input = d.InputShape, kernel = Name(d.Kernel), compiled = d.Compiled,
            dense_ms = d.Measurement?.Dense.Median * 1e3, sparse_ms = d.Measurement?.Sparse.Median * 1e3,
        }),
    }).ToList();
}
