using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Sparse;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp run-sparse</c>: execute a pruned ONNX model with the sparse CPU kernels.</summary>
static class RunSparseCommand
{
    /// <summary>Exit code when an output differs from ONNX Runtime's beyond the tolerance.</summary>
    const int FailExitCode = 2;

    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The pruned ONNX model file." };
        var inputs = new InputFlags();
        var sparse = new SparseFlags();
        var threads = new Option<int>("--threads") { Description = "Threads of the sparse kernels and libtorch.", DefaultValueFactory = _ => 2 };
        var runs = new Option<int>("--runs") { Description = "Timed runs after the first (which chooses each layer's kernel).", DefaultValueFactory = _ => 10 };
        var tolerance = new Option<double>("--tolerance") { Description = "An output element passes when |sparse - ORT| <= tol * (1 + |ORT|).", DefaultValueFactory = _ => 1e-4 };
        var noCompare = new Option<bool>("--no-compare") { Description = "Do not run ONNX Runtime to compare the outputs." };
        var seed = new Option<long>("--seed") { Description = "Seed of synthesised inputs.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("run-sparse",
            "Execute a pruned ONNX model with sparse kernels (CSR, compact N:M, and bitmap for unstructured Gemm/MatMul in the compiled plan) for its Gemm, MatMul and Conv layers and PruneSharp's executor for " +
            "everything else; each layer keeps dense or sparse, whichever is faster on the first input (unless --always-sparse). Prints the layers, " +
            $"the latency and the outputs' difference to ONNX Runtime (exit code {FailExitCode} beyond --tolerance).\n" +
            "Example: prunesharp run-sparse lenet5-90.onnx --shape input=1x1x28x28 --threads 2")
        {
            model, threads, runs, tolerance, noCompare, seed, json,
        };
        foreach (var option in inputs.All.Concat(sparse.All)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) throw new ArgumentException($"--threads must be at least 1, got {threadCount}");
            var options = new SparseRunOptions
            {
                Model = sparse.Options(parse, threadCount),
                Inputs = inputs.Options(parse),
                Runs = parse.GetValue(runs),
                Compare = !parse.GetValue(noCompare),
                Seed = parse.GetValue(seed),
                Tolerance = parse.GetValue(tolerance),
            };
            TorchSharp.torch.set_num_threads(threadCount);
            var report = Interruption.Run(token => SparseRun.Run(parse.GetValue(model)!.FullName, options, token));
            bool passed = report.Passed;
            if (parse.GetValue(json)) PrintJson(report, passed);
            else Print(report, passed, threadCount);
            return passed ? 0 : FailExitCode;
        });
        return command;
    }

    static void Print(SparseRunReport report, bool passed, int threads)
    {
        Console.WriteLine($"model      {report.Model}");
        foreach (var (name, shape) in report.InputShapes) Console.WriteLine($"input      {name} {Table.Shape(shape)}");
        SparseFlags.PrintLayers(report.Layers);
        SparseFlags.PrintPlan(report.Plan);
        Console.WriteLine($"weights    {report.DenseWeightBytes / 1e6:F3} MB dense -> {report.SparseWeightBytes / 1e6:F3} MB sparse (layers with a sparse kernel)");
        Console.WriteLine($"latency    {report.Latency.Median * 1e3:F3} ms median ({report.Latency.Low * 1e3:F3}-{report.Latency.High * 1e3:F3}) over {report.Latency.Samples} runs, {threads} threads");
        foreach (var o in report.Outputs)
            Console.WriteLine($"output     {o.Name} {Table.Shape(o.Shape)}" + (o.MaxAbsDiff is double d
                ? $", max |sparse - ORT| {d.ToString("0.00e+00", CultureInfo.InvariantCulture)}" : ""));
        if (report.Outputs.Any(o => o.MaxAbsDiff is not null)) Console.WriteLine(passed ? "PASS" : "FAIL");
    }

    static void PrintJson(SparseRunReport report, bool passed) =>
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = report.Model,
            inputs = report.InputShapes,
            layers = SparseFlags.LayersJson(report.Layers),
            plan = SparseFlags.PlanJson(report.Plan),
            dense_weight_bytes = report.DenseWeightBytes,
            sparse_weight_bytes = report.SparseWeightBytes,
            latency_ms = new { median = report.Latency.Median * 1e3, p10 = report.Latency.Low * 1e3, p90 = report.Latency.High * 1e3, runs = report.Latency.Samples },
            outputs = report.Outputs.Select(o => new { name = o.Name, shape = o.Shape, max_abs_diff = o.MaxAbsDiff, max_rel_diff = o.MaxRelDiff, passed = o.Passed }),
            passed,
        }, Table.Json));
}
