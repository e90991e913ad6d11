using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>ONNX Runtime latency of several model files, measured side by side (alternating) in one process.</summary>
sealed class OnnxLatency : IBenchmark
{
    public string Name => "latency";
    public string Description => "ONNX Runtime latency side by side: [--batch B] [--size S] [--threads T] [--rounds R] A.onnx B.onnx ...";

    public int Run(string[] args)
    {
        int batch = 1, size = 224, threads = 2, rounds = 30;
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--batch": batch = int.Parse(args[++i]); break;
                case "--size": size = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--rounds": rounds = int.Parse(args[++i]); break;
                default: files.Add(args[i]); break;
            }
        var runners = files.Select(f => new OnnxRuntimeRunner(f, threads)).ToList();
        var x = randn(batch, 3, size, size);
        var medians = Timing.Medians(rounds, runners.Select(r => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            r.Run(new Dictionary<string, Tensor> { [r.InputNames[0]] = x });
        })).ToArray());
        Console.WriteLine($"ONNX Runtime, batch {batch}, {size}x{size}, {threads} threads, median of {rounds} alternating runs");
        for (int i = 0; i < files.Count; i++)
            Console.WriteLine($"  {Path.GetFileName(files[i]),-40} {medians[i] * 1000,9:F2} ms   speedup vs first x{medians[0] / medians[i]:F2}");
        foreach (var r in runners) r.Dispose();
        return 0;
    }
}
