using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Onnx;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp check</c>: our executor against ONNX Runtime on the same random inputs.</summary>
static class CheckCommand
{
    /// <summary>Exit code when an output differs beyond the tolerance (bad input exits with 1).</summary>
    const int FailExitCode = 2;

    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model file." };
        var inputs = new InputFlags(legacyShapeAlias: true);
        var samples = new Option<int>("--samples") { Description = "Random input sets to compare on.", DefaultValueFactory = _ => 3 };
        var tolerance = new Option<double>("--tolerance") { Description = "An element passes when |ours - ORT| <= tol * (1 + |ORT|).", DefaultValueFactory = _ => 1e-4 };
        var seed = new Option<long>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 0 };
        var intRange = new Option<string>("--int-range") { Description = "Range LOW:HIGH (HIGH excluded) of random integer inputs that index no table (ids that index an embedding table are drawn from its rows).", DefaultValueFactory = _ => "0:100" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads per operator (0: its choice).", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("check",
            "Run the model with PruneSharp's executor and with ONNX Runtime on the same random inputs and compare every output " +
            $"(exit code {FailExitCode} when an output differs). Inputs are synthesised from the graph (ids within their embedding table, masks of ones) unless given with --input.\n" +
            "Example: prunesharp check resnet18.onnx --shape input=2x3x224x224 --samples 3\n" +
            "Example: prunesharp check bert.onnx --shape input_ids=1x64")
        {
            model, inputs.Shape, inputs.Input, samples, tolerance, seed, intRange, threads, json,
        };
        command.SetAction(parse =>
        {
            var (low, high) = ParseRange(parse.GetValue(intRange)!);
            var synthesis = inputs.Options(parse);
            var options = new RuntimeCheckOptions
            {
                InputShapes = synthesis.Shapes,
                Inputs = synthesis.Given,
                Samples = parse.GetValue(samples),
                Tolerance = parse.GetValue(tolerance),
                Seed = parse.GetValue(seed),
                IntLow = low,
                IntHigh = high,
                Threads = parse.GetValue(threads),
            };
            var report = RuntimeCheck.Run(parse.GetValue(model)!.FullName, options);
            if (parse.GetValue(json)) PrintJson(report);
            else Print(report);
            return report.Passed ? 0 : FailExitCode;
        });
        return command;
    }

    static (long Low, long High) ParseRange(string text)
    {
        string[] parts = text.Split(':');
        if (parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long low)
            && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long high))
            return (low, high);
        throw new ArgumentException($"--int-range '{text}' is not LOW:HIGH (e.g. 0:100)");
    }

    static void Print(RuntimeCheckReport report)
    {
        Console.WriteLine($"model      {report.Model} (opset {(report.SourceOpset is int old ? $"{old}, upgraded to {report.Opset} on import" : report.Opset)})");
        foreach (var (name, shape) in report.InputShapes) Console.WriteLine($"input      {name} {Table.Shape(shape)} ({report.InputValues.GetValueOrDefault(name, "")})");
        Console.WriteLine($"samples    {report.Samples}, tolerance {report.Tolerance:G3} (|ours - ORT| <= tol * (1 + |ORT|))");
        var rows = report.Outputs.Select(o => new[]
        {
            o.Name, Table.Shape(o.Shape), o.MaxAbsDiff.ToString("0.00e+00", CultureInfo.InvariantCulture),
            o.MaxRelDiff.ToString("0.00e+00", CultureInfo.InvariantCulture), (o.Passed ? "PASS" : "FAIL") + (o.Problem is { } p ? $" ({p})" : ""),
        });
        Table.Write(Console.Out, new[] { "output", "shape", "max abs diff", "max rel diff", "result" }, rows);
        Console.WriteLine(report.Passed ? "PASS" : "FAIL");
    }

    static void PrintJson(RuntimeCheckReport report) =>
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = report.Model,
            opset = report.Opset,
            source_opset = report.SourceOpset,
            inputs = report.InputShapes,
            input_values = report.InputValues,
            samples = report.Samples,
            tolerance = report.Tolerance,
            passed = report.Passed,
            outputs = report.Outputs.Select(o => new
            {
                name = o.Name, shape = o.Shape, max_abs_diff = o.MaxAbsDiff, max_rel_diff = o.MaxRelDiff, passed = o.Passed, problem = o.Problem,
            }),
        }, Table.Json));
}
