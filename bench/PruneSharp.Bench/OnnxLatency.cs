using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>ONNX Runtime latency of several model files, measured side by side (alternating) in one process.</summary>
sealed class OnnxLatency : IBenchmark
{
    public string Name => "latency";
    public string Description => "ONNX Runtime latency side by side: [--batch B] [--size S] [--threads T] [--rounds R] [--spinning] A.onnx B.onnx ...";

    public int Run(string[] args)
    {
        int batch = 1, size = 224, threads = 2, rounds = 30;
        bool spinning = false;
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--batch": batch = int.Parse(args[++i]); break;
                case "--size": size = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--rounds": rounds = int.Parse(args[++i]); break;
                case "--spinning": spinning = true; break;
                default: files.Add(args[i]); break;
            }
        var runners = files.Select(f => new OnnxRuntimeRunner(f, threads, spinning)).ToList();
        var x = randn(batch, 3, size, size);
        var medians = Timing.Medians(rounds, runners.Select(r => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            r.Run(new Dictionary<string, Tensor> { [r.InputNames[0]] = x });
        })).ToArray());
        Console.WriteLine($"ONNX Runtime, batch {batch}, {size}x{size}, {threads} threads (idle threads {(spinning ? "spin" : "sleep")}), median of {rounds} alternating runs; " +
            "MACs per example counted by PruneSharp for every file");
        for (int i = 0; i < files.Count; i++)
        {
            using var model = OnnxFile.Load(files[i]);
            long macs = Metrics.MacCounter.Measure(model, new[] { randn(1, 3, size, size) }).DenseMacs;
            long parameters = model.parameters().Sum(p => p.numel());
            Console.WriteLine($"  {Path.GetFileName(files[i]),-28} {medians[i] * 1000,9:F2} ms  speedup x{medians[0] / medians[i],5:F2}   {parameters / 1e6,7:F3}M params  {macs / 1e6,8:F1}M MACs");
        }
        foreach (var r in runners) r.Dispose();
        return 0;
    }
}
