using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>ONNX Runtime latency of several model files, measured side by side (alternating) in one process.</summary>
sealed class OnnxLatency : IBenchmark
{
    public string Name => "latency";
    public string Description => "ONNX Runtime latency side by side: [--batch B] [--size S] [--shape NAME=DxD...] [--threads T] [--rounds R] [--block K] [--spinning] A.onnx B.onnx ... " +
        "(every input synthesised from the first file's graph: ids within their table, masks of ones; an image input B x C x S x S)";

    public int Run(string[] args)
    {
        int batch = 1, size = 224, threads = 2, rounds = 30, block = 1;
        bool spinning = false;
        var files = new List<string>();
        var shapes = new List<string>();
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--batch": batch = int.Parse(args[++i]); break;
                case "--size": size = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--rounds": rounds = int.Parse(args[++i]); break;
                case "--spinning": spinning = true; break;
                case "--block": block = int.Parse(args[++i]); break;
                case "--shape": shapes.Add(args[++i]); break;
                default: files.Add(args[i]); break;
            }
        var runners = files.Select(f => new OnnxRuntimeRunner(f, threads, spinning)).ToList();
        var graph = OnnxFile.Read(files[0]);
        var inputs = Inputs(graph, batch, size, shapes);
        var feed = graph.Inputs.Select((input, k) => (input.Name, inputs[k])).ToDictionary(p => p.Name, p => p.Item2);
        var medians = Timing.Medians(rounds, block, runners.Select(r => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            r.Run(feed);
        })).ToArray());
        Console.WriteLine($"ONNX Runtime, batch {batch}, inputs {string.Join(", ", graph.Inputs.Select((input, k) => $"{input.Name} {string.Join("x", inputs[k].shape)}"))}, {threads} threads (idle threads {(spinning ? "spin" : "sleep")}), median of {rounds} alternating rounds{(block > 1 ? $" of {block} runs after one untimed" : "")}; " +
            "MACs and activations (elements of computed values) per example counted by PruneSharp for every file");
        for (int i = 0; i < files.Count; i++)
        {
            using var model = OnnxFile.Load(files[i]);
            var sample = Inputs(model.Graph, 1, size, shapes);
            long macs = Metrics.MacCounter.Measure(model, sample).DenseMacs;
            long parameters = model.parameters().Sum(p => p.numel());
            Console.WriteLine($"  {Path.GetFileName(files[i]),-28} {medians[i] * 1000,9:F2} ms  speedup x{medians[0] / medians[i],5:F2}   {parameters / 1e6,7:F3}M params  {macs / 1e6,8:F1}M MACs  {Activations(model, sample) / 1e6,6:F2}M activations");
        }
        foreach (var r in runners) r.Dispose();
        return 0;
    }

    /// <summary>
    /// Inputs of <paramref name="batch"/> examples for every input of <paramref name="graph"/>: an image input (float,
    /// rank 4, no shape given) is batch × C × size × size, the others as <see cref="InputSynthesis"/> makes them.
    /// </summary>
    static Tensor[] Inputs(PruneSharp.Graph.Graph graph, int batch, int size, IEnumerable<string> shapes)
    {
        var given = InputShapes.Parse(shapes);
        foreach (var input in graph.Inputs)
            if (!given.ContainsKey(input.Name) && input.ElementType == DataType.Float && input.Shape is { Count: 4 } shape)
                given[input.Name] = new long[] { batch, shape[1].Size ?? 3, size, size };
        return InputSynthesis.Synthesize(graph, new InputSynthesisOptions { Shapes = given, BatchSize = batch });
    }

    /// <summary>
    /// Elements of all values the nodes compute for one example: what a memory-bound network reads and writes,
    /// which channel pruning shrinks in proportion to the channels (about 2× at half the channels) while the MACs of
    /// dense convolutions shrink with the square.
    /// </summary>
    static long Activations(GraphModule model, IReadOnlyList<Tensor> sample)
    {
        var computed = model.Graph.Nodes.SelectMany(n => n.Outputs).ToHashSet();
        long total = 0;
        using (no_grad())
        using (NewDisposeScope())
            model.Run(sample, (name, value) => { if (computed.Contains(name)) total += value.numel(); });
        return total;
    }
}
