using System.Diagnostics;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// Channel pruning of an ONNX image classifier with L2 magnitude, as Torch-Pruning's comparison runs it:
/// prints graph-build and pruning times, parameters and MACs before and after, and writes the pruned model.
/// </summary>
sealed class StructuredPruning : IBenchmark
{
    public string Name => "structured";
    public string Description => "channel-prune an ONNX classifier: MODEL.onnx OUT.onnx [ratio=0.5] [round-to=8] [ignore=fc] [size=224]";

    public int Run(string[] args)
    {
        if (args.Length < 2) { Console.Error.WriteLine($"usage: structured {Description.Split(": ")[1]}"); return 2; }
        string input = args[0], output = args[1];
        double ratio = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0.5;
        int roundTo = args.Length > 3 ? int.Parse(args[3]) : 8;
        string[] ignore = args.Length > 4 ? args[4].Split(',') : Array.Empty<string>();
        long size = args.Length > 5 ? long.Parse(args[5]) : 224;

        using var model = OnnxFile.Load(input);
        model.eval();
        var sample = randn(1, 3, size, size);
        var dense = MacCounter.Measure(model, new[] { sample });
        long denseParameters = model.parameters().Sum(p => p.numel());

        var watch = Stopwatch.StartNew();
        var graph = DependencyGraph.Build(model, new[] { sample });
        double buildSeconds = watch.Elapsed.TotalSeconds;
        var removed = ChannelSelection.Select(graph, new MagnitudeImportance(P: 2, IncludeReads: true),
            new ChannelPruningOptions { Ratio = ratio, RoundTo = roundTo, Ignore = ignore });
        double selectSeconds = watch.Elapsed.TotalSeconds - buildSeconds;
        using var pruned = Surgery.Apply(graph, removed);
        double totalSeconds = watch.Elapsed.TotalSeconds;
        pruned.eval();

        var after = MacCounter.Measure(pruned, new[] { sample });
        long prunedParameters = pruned.parameters().Sum(p => p.numel());
        OnnxFile.Save(pruned, output);
        using (no_grad())
        {
            double check = (new OnnxRuntimeRunner(output, 2).Run(new Dictionary<string, Tensor> { [pruned.InputNames[0]] = sample })
                .First().Value - pruned.call(sample)).abs().max().item<float>();
            Console.WriteLine($"ONNX Runtime vs PruneSharp on the pruned model: max |difference| {check:E2}");
        }
        Console.WriteLine($"groups: {graph.Groups.Count} prunable, {graph.Blocked.Count} left out");
        foreach (var blocked in graph.Blocked.Take(5))
            Console.WriteLine($"  left out {blocked.Size} channels of {string.Join(",", blocked.Producers.Take(3))}: {blocked.Reasons[0]}");
        Console.WriteLine($"parameters: {denseParameters / 1e6:F3}M -> {prunedParameters / 1e6:F3}M");
        Console.WriteLine($"MACs:       {dense.DenseMacs / 1e6:F1}M -> {after.DenseMacs / 1e6:F1}M (reduction x{(double)dense.DenseMacs / after.DenseMacs:F2})");
        Console.WriteLine($"time:       {totalSeconds:F3} s ({buildSeconds:F3} s dependency graph, {selectSeconds:F3} s importance and selection, {totalSeconds - buildSeconds - selectSeconds:F3} s surgery)");
        Console.WriteLine($"RESULT {{\"tool\":\"prunesharp\",\"params\":{prunedParameters},\"dense_params\":{denseParameters},\"macs\":{after.DenseMacs},\"dense_macs\":{dense.DenseMacs},\"seconds\":{totalSeconds:F4},\"graph_seconds\":{buildSeconds:F4}}}");
        return 0;
    }
}
