using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Metrics;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp bench</c>: latency of a model side by side with a baseline and, with --sparse, the sparse runtime.</summary>
static class BenchCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model file." };
        var baseline = new Option<FileInfo?>("--baseline") { Description = "A second model (e.g. the dense original) timed alternately with the first; speedups are read against it." };
        var batch = new Option<string>("--batch") { Description = "Batch sizes, comma-separated (a symbolic batch dimension of every input).", DefaultValueFactory = _ => "1" };
        var threads = new Option<int>("--threads") { Description = "Threads of every contender (ONNX Runtime intra-op, libtorch, sparse kernels).", DefaultValueFactory = _ => 2 };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds per batch size (one timed call of each contender per round).", DefaultValueFactory = _ => 20 };
        var sparseRows = new Option<bool>("--sparse") { Description = "Also time PruneSharp's dense executor (libtorch) and its sparse runtime (as run-sparse runs it)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var inputs = new InputFlags();
        var sparse = new SparseFlags();
        var command = new Command("bench",
            "Latency of a model in ONNX Runtime, measured alternately with a baseline model and, with --sparse, with PruneSharp's dense executor and its sparse " +
            "runtime, in one process on the same inputs: median and spread (10th-90th percentile) per batch size, and the speedup over the baseline (or, " +
            "for the sparse row, over the faster dense run).\n" +
            "Example: prunesharp bench resnet18-pruned.onnx --baseline resnet18.onnx --batch 1,16 --threads 2\n" +
            "Example: prunesharp bench lenet300-90.onnx --sparse --batch 1,16")
        {
            model, baseline, batch, threads, rounds, sparseRows, json,
        };
        foreach (var option in inputs.All.Concat(sparse.All)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            var options = new ModelBenchmarkOptions
            {
                Baseline = parse.GetValue(baseline)?.FullName,
                Batches = ParseBatches(parse.GetValue(batch)!),
                Threads = threadCount,
                Rounds = parse.GetValue(rounds),
                Sparse = parse.GetValue(sparseRows),
                SparseOptions = sparse.Options(parse, Math.Max(1, threadCount)),
                Inputs = inputs.Options(parse),
            };
            var report = Interruption.Run(token => ModelBenchmark.Run(parse.GetValue(model)!.FullName, options, token));
            if (parse.GetValue(json)) PrintJson(report);
            else Print(report);
            return 0;
        });
        return command;
    }

    static int[] ParseBatches(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var batches = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out batches[i]) || batches[i] < 1)
                throw new ArgumentException($"--batch '{text}' is not a comma-separated list of positive integers (e.g. 1,16)");
        return batches;
    }

    static void Print(ModelBenchmarkReport report)
    {
        Console.WriteLine($"model      {report.Model}");
        if (report.Baseline is { } b) Console.WriteLine($"baseline   {b}");
        Console.WriteLine($"{report.Threads} threads, median of {report.Rounds} alternating rounds (spread: 10th-90th percentile)");
        string reference = report.Baseline != null ? "vs baseline" : "vs fastest dense";
        foreach (var batch in report.Batches)
        {
            Console.WriteLine();
            Console.WriteLine($"batch {batch.Batch}: {string.Join(", ", batch.InputShapes.Select(p => $"{p.Key} {Table.Shape(p.Value)}"))}");
            Table.Write(Console.Out, new[] { "contender", "median ms", "spread ms", $"speedup {reference}" }, batch.Rows.Select(r => (IReadOnlyList<string>)new[]
            {
                r.Name, $"{r.Latency.Median * 1e3:F3}", $"{r.Latency.Low * 1e3:F3}-{r.Latency.High * 1e3:F3}", r.Speedup is double s ? $"x{s:F2}" : "",
            }));
        }
        if (report.SparseLayers.Count > 0 || report.Batches.Any(b => b.Rows.Any(r => r.Name == "sparse")))
        {
            Console.WriteLine();
            SparseFlags.PrintLayers(report.SparseLayers);
            if (report.SparsePlan is { } plan) SparseFlags.PrintPlan(plan);
        }
    }

    static void PrintJson(ModelBenchmarkReport report) =>
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = report.Model,
            baseline = report.Baseline,
            threads = report.Threads,
            rounds = report.Rounds,
            batches = report.Batches.Select(b => new
            {
                batch = b.Batch,
                inputs = b.InputShapes,
                rows = b.Rows.Select(r => new { name = r.Name, median_ms = r.Latency.Median * 1e3, p10_ms = r.Latency.Low * 1e3, p90_ms = r.Latency.High * 1e3, speedup = r.Speedup }),
            }),
            sparse_layers = SparseFlags.LayersJson(report.SparseLayers),
            sparse_plan = report.SparsePlan is { } plan ? SparseFlags.PlanJson(plan) : null,
        }, Table.Json));
}
