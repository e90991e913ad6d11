using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using PruneSharp.Llm.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// Our side of the retraining-free layer-pruning comparison with PyTorch (bench/llm_layer_pytorch.py, which also
/// writes the data): per layer shape, statistics accumulation (batches of 512 tokens), Wanda 50%, SparseGPT 50% and
/// 2:4, each once untimed and once timed, on the same W and X files; one RESULT line of JSON per shape and method,
/// in the Python side's format. bench/scripts/llm_layer_vs_pytorch.sh alternates the two and prints the ratios.
/// </summary>
sealed class LlmLayerBench : IBenchmark
{
    public string Name => "llm-layer";

    public string Description => "Wanda and SparseGPT on one linear layer: DIR SHAPES TOKENS THREADS (data from bench/llm_layer_pytorch.py)";

    public int Run(string[] args)
    {
        if (args.Length < 4) { Console.Error.WriteLine($"usage: llm-layer {Description.Split(": ")[1]}"); return 2; }
        string folder = args[0];
        var shapes = args[1].Split(',').Select(s => s.Split('x').Select(long.Parse).ToArray()).ToArray();
        long tokens = long.Parse(args[2]);
        set_num_threads(int.Parse(args[3]));
        foreach (var shape in shapes)
        {
            long outputs = shape[0], inputs = shape[1];
            using var scope = NewDisposeScope();
            var w = Load(Path.Combine(folder, $"w_{outputs}x{inputs}.f32"), outputs, inputs);
            var x = Load(Path.Combine(folder, $"x_{tokens}x{inputs}.f32"), tokens, inputs);
            InputStatistics? statistics = null;
            double seconds = Timed(() =>
            {
                statistics?.Dispose();
                statistics = new InputStatistics(inputs);
                for (long start = 0; start < tokens; start += 512) statistics.Add(x.narrow(0, start, Math.Min(512, tokens - start)));
            });
            using var inputStatistics = statistics!;
            var h = inputStatistics.Hessian();
            void Report(string method, double s, Tensor? pruned) => Console.WriteLine("RESULT " + JsonSerializer.Serialize(new
            {
                tool = "prunesharp", shape = $"{outputs}x{inputs}", method, seconds = s,
                error = pruned is null ? (double?)null : ReconstructionError.Relative(w, pruned, h),
            }));
            Report("statistics", seconds, null);
            PrunedLinear? result = null;
            void Run(string method, Func<PrunedLinear> prune)
            {
                double s = Timed(() => { result?.Dispose(); result = prune(); });
                Report(method, s, result!.Weight);
                result.Dispose();
                result = null;
            }
            Run("wanda-0.5", () => WandaPruning.Prune(w, inputStatistics, SparsityPattern.Unstructured(0.5)));
            Run("sparsegpt-0.5", () => SparseGpt.Prune(w, h, SparsityPattern.Unstructured(0.5)));
            Run("sparsegpt-2:4", () => SparseGpt.Prune(w, h, SparsityPattern.NM(2, 4)));
        }
        return 0;
    }

    /// <summary>Runs once untimed, then once timed; seconds of the timed run.</summary>
    static double Timed(Action action)
    {
        action();
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }

    static Tensor Load(string path, long rows, long columns)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != rows * columns * 4)
            throw new InvalidDataException($"{path}: {bytes.Length} bytes, expected {rows}x{columns} float32 (run bench/llm_layer_pytorch.py data first)");
        return tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), new[] { rows, columns });
    }
}
