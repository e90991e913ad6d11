using PruneSharp.Graph;
using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>ONNX Runtime latency of several model files, measured side by side (alternating) in one process.</summary>
sealed class OnnxLatency : IBenchmark
{
    public string Name => "latency";
    public string Description => "ONNX Runtime latency side by side: [--batch B] [--channels C] [--size S] [--threads T] [--rounds R] [--block K] [--spinning] A.onnx B.onnx ...";

    public int Run(string[] args)
    {
        int batch = 1, channels = 3, size = 224, threads = 2, rounds = 30, block = 1;
        bool spinning = false;
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--batch": batch = int.Parse(args[++i]); break;
                case "--channels": channels = int.Parse(args[++i]); break;
                case "--size": size = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--rounds": rounds = int.Parse(args[++i]); break;
                case "--spinning": spinning = true; break;
                case "--block": block = int.Parse(args[++i]); break;
                default: files.Add(args[i]); break;
            }
        var runners = files.Select(f => new OnnxRuntimeRunner(f, threads, spinning)).ToList();
        var x = randn(batch, channels, size, size);
        var medians = Timing.Medians(rounds, block, runners.Select(r => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            r.Run(new Dictionary<string, Tensor> { [r.InputNames[0]] = x });
        })).ToArray());
        Console.WriteLine($"ONNX Runtime, batch {batch}, {channels}x{size}x{size}, {threads} threads (idle threads {(spinning ? "spin" : "sleep")}), median of {rounds} alternating rounds{(block > 1 ? $" of {block} runs after one untimed" : "")}; " +
            "MACs and activations (elements of computed values) per example counted by PruneSharp for every file");
        for (int i = 0; i < files.Count; i++)
        {
            using var model = OnnxFile.Load(files[i]);
            var sample = randn(1, channels, size, size);
            long macs = Metrics.MacCounter.Measure(model, new[] { sample }).DenseMacs;
            long parameters = model.parameters().Sum(p => p.numel());
            Console.WriteLine($"  {Path.GetFileName(files[i]),-28} {medians[i] * 1000,9:F2} ms  speedup x{medians[0] / medians[i],5:F2}   {parameters / 1e6,7:F3}M params  {macs / 1e6,8:F1}M MACs  {Activations(model, sample) / 1e6,6:F2}M activations");
        }
        foreach (var r in runners) r.Dispose();
        return 0;
    }

    /// <summary>
    /// Elements of all values the nodes compute for one example: what a memory-bound network reads and writes,
    /// which channel pruning shrinks in proportion to the channels (about 2× at half the channels) while the MACs of
    /// dense convolutions shrink with the square.
    /// </summary>
    static long Activations(GraphModule model, Tensor sample)
    {
        var computed = model.Graph.Nodes.SelectMany(n => n.Outputs).ToHashSet();
        long total = 0;
        using (no_grad())
        using (NewDisposeScope())
            model.Run(new[] { sample }, (name, value) => { if (computed.Contains(name)) total += value.numel(); });
        return total;
    }
}
