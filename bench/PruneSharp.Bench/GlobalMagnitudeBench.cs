using System.Diagnostics;
using PruneSharp.Engine;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// One global magnitude pruning (element granularity, exact count) of a 25.2M-parameter model, against a baseline
/// that selects the same count with a full stable sort of the concatenated scores.
/// </summary>
sealed class GlobalMagnitudeBench : IBenchmark
{
    public string Name => "global-magnitude";

    public string Description => "global magnitude pruning of a 25M-parameter model (options: --threads N, --repeats N, --sparsity S)";

    public int Run(string[] args)
    {
        int threads = Option(args, "--threads", 2), repeats = Option(args, "--repeats", 5);
        double sparsity = Option(args, "--sparsity", 0.9);
        TorchEngine.EnsureLoaded();
        set_num_threads(threads);
        manual_seed(0);
        // Six 2048x2048 linear layers: 25,165,824 weights (plus 12,288 biases that are not pruned).
        using var model = nn.Sequential(Enumerable.Range(0, 6).Select(i => ($"fc{i}", (nn.Module<Tensor, Tensor>)nn.Linear(2048, 2048))).ToArray());
        using var snapshot = WeightSnapshot.Capture(model);
        long weights = model.parameters().Where(p => p.dim() == 2).Sum(p => p.numel());
        Console.WriteLine($"model: {weights:N0} prunable weights in 6 Linear(2048, 2048); sparsity {sparsity}; {threads} thread(s); best of {repeats}");

        var pruner = Best(repeats, () => snapshot.Restore(model), () =>
        {
            using var masks = new MaskSet(model);
            new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity(), new PruningScope { Allocation = Allocation.Global }).Prune(sparsity);
        });
        var sorted = Best(repeats, () => snapshot.Restore(model), () =>
        {
            using var scope = NewDisposeScope();
            var scores = cat(model.parameters().Where(p => p.dim() == 2).Select(p => p.detach().abs().reshape(-1)).ToArray());
            var order = scores.sort(0, stable: true).Indices;
            var keep = ones(scores.numel(), dtype: ScalarType.Bool);
            keep[order.narrow(0, 0, ExactSelection.PrunedCount(sparsity, scores.numel()))] = tensor(false);
            long offset = 0;
            using var _ = no_grad();
            foreach (var p in model.parameters().Where(p => p.dim() == 2))
            {
                p.mul_(keep.narrow(0, offset, p.numel()).reshape(p.shape));
                offset += p.numel();
            }
        });
        // Process CPU time is reported next to wall time: on a shared machine the wall time also counts waiting.
        Console.WriteLine($"Pruner (global, sampled bracket + k-th value, index tie-break): wall {pruner.Wall:F3} s, CPU {pruner.Cpu:F3} s");
        Console.WriteLine($"baseline (full stable sort of all scores):                     wall {sorted.Wall:F3} s, CPU {sorted.Cpu:F3} s");
        Console.WriteLine($"ratio baseline/pruner: wall {sorted.Wall / pruner.Wall:F2}x, CPU {sorted.Cpu / pruner.Cpu:F2}x");
        Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} ({Environment.ProcessorCount} cores)");
        return 0;
    }

    /// <summary>The best wall time and the best process CPU time (user + system, all threads) over the repeats.</summary>
    static (double Wall, double Cpu) Best(int repeats, Action setup, Action run)
    {
        setup();
        run(); // warm-up
        double wall = double.MaxValue, cpu = double.MaxValue;
        using var process = Process.GetCurrentProcess();
        for (int i = 0; i < repeats; i++)
        {
            setup();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            run();
            wall = Math.Min(wall, watch.Elapsed.TotalSeconds);
            process.Refresh();
            cpu = Math.Min(cpu, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
        }
        return (wall, cpu);
    }

    static T Option<T>(string[] args, string name, T fallback) where T : IParsable<T>
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return fallback;
        if (i + 1 >= args.Length || !T.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"{name} needs a value of type {typeof(T).Name}");
        return value;
    }
}
