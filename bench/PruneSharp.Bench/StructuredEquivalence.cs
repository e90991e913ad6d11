using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// The structured-pruning equivalence sweep over every ONNX image classifier in a folder (bench/export_torchvision.py
/// writes them; loaded with ShapeFolding): builds the dependency graph, removes 50% of every prunable group (channels, and heads of attention layers) by L2 norm (round-to 8 for channels; the
/// classifier's outputs are the graph output and so are never pruned), then checks
/// (1) the oracle: the shrunk model equals the original with the removed channels' reader slices zeroed, both run in
///     float64, max |difference| relative to max |output| ≤ 1e-5;
/// (2) ONNX Runtime on the saved pruned file equals our executor on it, float32, relative ≤ 1e-4;
/// and prints one table row per model with the reasons channels were left out. A model whose output barely depends on
/// its input (relative change between two random inputs below 1e-6: random weights whose activations die) is marked
/// vacuous rather than OK. Groups that are not exact (a LayerNorm over their channels) are kept, and counted apart; with
/// the argument <c>approximate</c> they are pruned too, and a model that loses some of them has no oracle (its kept
/// channels are renormalised), only the ONNX Runtime check.
/// </summary>
sealed class StructuredEquivalence : IBenchmark
{
    const double OracleTolerance = 1e-5, RuntimeTolerance = 1e-4;

    public string Name => "equivalence";
    public string Description => "structured-pruning equivalence sweep: [FOLDER=bench/models] [size=224] [ratio=0.5] [round-to=8] [approximate]";

    public int Run(string[] args)
    {
        string folder = args.Length > 0 ? args[0] : Path.Combine("bench", "models");
        long size = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 224;
        double ratio = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 0.5;
        int roundTo = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 8;
        bool approximate = args.Length > 4 && args[4] == "approximate";
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.onnx").Order(StringComparer.Ordinal).ToList() : new List<string>();
        if (files.Count == 0) { Console.Error.WriteLine($"no .onnx files in {folder} (run bench/export_torchvision.py --models equivalence)"); return 2; }
        string scratch = Path.Combine(Path.GetTempPath(), $"prunesharp-equivalence-{Environment.ProcessId}");
        Directory.CreateDirectory(scratch);

        Console.WriteLine($"oracle tolerance {OracleTolerance:E0} (float64, relative to max |output|); ONNX Runtime tolerance {RuntimeTolerance:E0} (float32, relative); input 1x3x{size}x{size}, ratio {ratio}, round-to {roundTo}, L2{(approximate ? ", groups that are not exact pruned too" : "")}");
        Console.WriteLine();
        Console.WriteLine("| model | groups prunable / left out | params before → after | MACs before → after | max \\|output\\| | input sensitivity | oracle diff | ORT diff | result | left out because |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        int failures = 0, vacuous = 0;
        foreach (string file in files)
        {
            string name = Path.GetFileNameWithoutExtension(file);
            var watch = Stopwatch.StartNew();
            string row;
            try
            {
                row = Check(file, scratch, size, ratio, roundTo, approximate, out bool ok);
                if (!ok) failures++;
                else if (row.Contains("vacuous")) vacuous++;
            }
            catch (Exception e)
            {
                failures++;
                row = $"| — | — | — | — | — | — | — | FAIL | {Escape(e.GetType().Name + ": " + e.Message.Split('\n')[0])} |";
            }
            Console.WriteLine($"| {name} {row} <!-- {watch.Elapsed.TotalSeconds:F0} s -->");
            GC.Collect();
        }
        Directory.Delete(scratch, recursive: true);
        Console.WriteLine();
        Console.WriteLine($"{files.Count - failures - vacuous} of {files.Count} models OK, {vacuous} vacuous (output independent of the input), {failures} FAIL");
        return failures == 0 ? 0 : 1;
    }

    static string Check(string file, string scratch, long size, double ratio, int roundTo, bool approximate, out bool ok)
    {
        // As the CLI loads for structured pruning (exporters transpose weights at run time and compute reshape targets
        // and chunk bounds from shapes).
        var source = OnnxFile.Read(file);
        PruneSharp.Graph.Passes.StructuralPasses.Apply(source);
        using var model = new GraphModule(source);
        model.eval();
        RedrawZeroWeights(model);
        using var generator = new Generator(7);
        var sample = randn(new[] { 1L, 3, size, size }, generator: generator);
        var dense = MacCounter.Measure(model, new[] { sample });
        long denseParameters = model.parameters().Sum(p => p.numel());
        // How much the output moves between two inputs: near 0, the comparison below says nothing (activations died).
        double sensitivity;
        using (no_grad()) sensitivity = Relative(model.call(randn(new[] { 1L, 3, size, size }, generator: generator)), model.call(sample));

        var graph = DependencyGraph.Build(model, new[] { sample });
        string blocked = Reasons(graph.Blocked);
        int inexact = graph.Groups.Count(g => !g.IsExact);
        string groups = $"{graph.Groups.Count - inexact} / {graph.Blocked.Count}" + (inexact > 0 ? $" (+{inexact} not exact)" : "");
        // Channels and attention heads (their groups are disjoint), so that both surgeries face the oracle.
        var options = new ChannelPruningOptions { Ratio = ratio, RoundTo = roundTo, Approximate = approximate };
        var removed = ChannelSelection.Select(graph, new MagnitudeImportance(P: 2), options)
            .Concat(ChannelSelection.Select(graph, new MagnitudeImportance(P: 2, IncludeReads: true), options with { Unit = PruningUnit.Head, RoundTo = 1 }))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        if (removed.Count == 0)
        {
            ok = true;
            return $"| {groups} | {Millions(denseParameters)} (nothing prunable) | {Millions(dense.DenseMacs)} | — | — | — | — | OK | {blocked} |";
        }
        using var pruned = Surgery.Apply(graph, removed);
        pruned.eval();
        var after = MacCounter.Measure(pruned, new[] { sample });
        long prunedParameters = pruned.parameters().Sum(p => p.numel());

        double oracle = double.NaN, scale;
        bool hasOracle = removed.Keys.All(id => graph.Groups.Single(g => g.Id == id).IsExact);
        using (var zeroed64 = new GraphModule(Float64(Surgery.ZeroedReaders(graph, removed))))
        using (var pruned64 = new GraphModule(Float64(pruned.ToGraph())))
        using (no_grad())
        {
            zeroed64.eval();
            pruned64.eval();
            var input = sample.to_type(ScalarType.Float64);
            var expected = zeroed64.call(input);
            var actual = pruned64.call(input);
            if (!expected.shape.SequenceEqual(actual.shape)) throw new InvalidOperationException($"output shapes differ: [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}]");
            if (hasOracle) oracle = Relative(actual, expected);
            scale = expected.abs().max().item<double>();
        }

        string path = Path.Combine(scratch, Path.GetFileName(file));
        OnnxFile.Save(pruned, path);
        double runtime;
        using (var ort = new OnnxRuntimeRunner(path, threads: 2))
        using (no_grad())
        {
            var theirs = ort.Run(new Dictionary<string, Tensor> { [pruned.InputNames[0]] = sample }).First().Value;
            runtime = Relative(pruned.call(sample), theirs);
        }
        foreach (string written in Directory.GetFiles(scratch)) File.Delete(written);

        ok = (!hasOracle || oracle <= OracleTolerance) && runtime <= RuntimeTolerance && scale > 0;
        return $"| {groups} | {Millions(denseParameters)} → {Millions(prunedParameters)} | {Millions(dense.DenseMacs)} → {Millions(after.DenseMacs)} | {scale:G3} | {sensitivity:E1} | {(hasOracle ? oracle.ToString("E1", CultureInfo.InvariantCulture) : "n/a (not exact)")} | {runtime:E1} | {(!ok ? "FAIL" : sensitivity < 1e-6 ? "vacuous" : "OK")} | {blocked} |";
    }

    /// <summary>
    /// Weight matrices that are identically zero (ViT's zero-initialised head) are redrawn from N(0, 0.02²), so that
    /// the outputs compared are not all zero.
    /// </summary>
    static void RedrawZeroWeights(GraphModule model)
    {
        using var generator = new Generator(11);
        using var _ = no_grad();
        foreach (var (_, weight) in model.named_parameters())
            if (weight.dim() >= 2 && weight.count_nonzero().item<long>() == 0)
                weight.copy_(randn(weight.shape, generator: generator) * 0.02);
    }

    /// <summary>max |a − b| / max |b|.</summary>
    static double Relative(Tensor a, Tensor b) =>
        ((a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max() / b.to_type(ScalarType.Float64).abs().max().clamp_min(1e-30)).item<double>();

    static Graph.Graph Float64(Graph.Graph graph)
    {
        foreach (var (name, value) in graph.Initializers.ToList())
            if (value.dtype == ScalarType.Float32) graph.Initializers[name] = value.to_type(ScalarType.Float64);
        foreach (var input in graph.Inputs.ToList())
            if (input.ElementType == DataType.Float)
                graph.Inputs[graph.Inputs.IndexOf(input)] = new ValueInfo(input.Name, DataType.Double, input.Shape);
        return graph;
    }

    /// <summary>The distinct reasons (node names left out), with how many left-out groups each stopped.</summary>
    static string Reasons(IReadOnlyList<BlockedGroup> blocked)
    {
        if (blocked.Count == 0) return "—";
        var counts = blocked.Select(b => Regex.Replace(Regex.Replace(b.Reasons[0].Replace("reaches graph output 'logits'", "classifier output (graph output)"), @"node '[^']*' ", ""), @"'[^']*'", "…"))
            .GroupBy(r => r).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()}× {g.Key}");
        return Escape(string.Join("; ", counts));
    }

    static string Millions(long n) => (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + "M";

    static string Escape(string text) => text.Replace("|", "\\|");
}
