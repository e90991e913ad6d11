using System.Diagnostics;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// Training samples/s of the LeNet-300-100 MLP (784-300-100-10, batch 128, SGD with momentum 0.9) on 2 threads:
/// a plain TorchSharp loop over batches already in memory (the same protocol as bench/pytorch_train_throughput.py),
/// and PruneSharp's Trainer over an in-memory 28x28 image set (batch assembly, normalisation and shuffling included);
/// both against PyTorch, run in the same invocation.
/// </summary>
sealed class TrainThroughput : IBenchmark
{
    const int Batch = 128, Threads = 2;

    public string Name => "train-throughput";

    public string Description => "training samples/s of a 784-300-100-10 MLP, batch 128, SGD: ours / PyTorch";

    public int Run(string[] args)
    {
        int steps = 50, rounds = 7;
        for (int i = 0; i + 1 < args.Length; i += 2)
            switch (args[i])
            {
                case "--steps": steps = int.Parse(args[i + 1]); break;
                case "--rounds": rounds = int.Parse(args[i + 1]); break;
                default: Console.Error.WriteLine($"unknown option {args[i]} (options: --steps N, --rounds N)"); return 2;
            }

        set_num_threads(Threads);
        Console.WriteLine($"threads {get_num_threads()}, batch {Batch}, {steps} steps per round, median of {rounds} rounds");
        Console.WriteLine($"BLAS: libopenblas0-pthread {(File.Exists("/usr/lib/x86_64-linux-gnu/libopenblas.so.0") ? "installed" : "absent")}; " +
            "Debian's PyTorch calls the system libblas.so.3 (OpenBLAS when installed), the NuGet libtorch links no system BLAS");

        // The two in-process contenders run alternately; PyTorch runs next, in its own process, with the same protocol.
        var plainModel = Mlp();
        using var optimizer = optim.SGD(plainModel.parameters(), 0.05, momentum: 0.9);
        var inputs = randn(new long[] { steps, Batch, 1, 28, 28 });
        var targets = randint(0, 10, [steps, Batch]);
        plainModel.train();
        void PlainBlock()
        {
            for (int s = 0; s < steps; s++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                nn.functional.cross_entropy(plainModel.call(inputs[s]), targets[s]).backward();
                optimizer.step();
            }
        }

        var data = SyntheticImages(steps * Batch);
        using var trainer = new Trainer(Mlp(), new TrainerOptions
        {
            Epochs = 1, BatchSize = Batch, Threads = Threads,
            Optimizer = new OptimizerSettings(Momentum: 0.9), Schedule = new ConstantSchedule(0.05),
        });
        void TrainerEpoch()
        {
            trainer.Rewind(TrainingPosition.Start, resetOptimizer: false);
            trainer.Fit(data);
        }

        var seconds = Timing.Medians(rounds, PlainBlock, TrainerEpoch);
        double plain = steps * Batch / seconds[0], trainerRate = steps * Batch / seconds[1];
        Console.WriteLine($"TorchSharp loop   {plain,10:F0} samples/s");
        Console.WriteLine($"PruneSharp Trainer{trainerRate,10:F0} samples/s");

        var peer = PyTorch(steps, rounds);
        if (peer is null) return 0;
        Console.WriteLine($"PyTorch {peer.Value.Version,-10}{peer.Value.SamplesPerSecond,10:F0} samples/s");
        Console.WriteLine($"ratio TorchSharp loop / PyTorch    {plain / peer.Value.SamplesPerSecond:F2}");
        Console.WriteLine($"ratio PruneSharp Trainer / PyTorch {trainerRate / peer.Value.SamplesPerSecond:F2}");
        return 0;
    }

    static nn.Module<Tensor, Tensor> Mlp()
    {
        manual_seed(0);
        return nn.Sequential(("flatten", nn.Flatten()), ("fc1", nn.Linear(784, 300)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(300, 100)), ("relu2", nn.ReLU()), ("fc3", nn.Linear(100, 10)));
    }

    /// <summary>Random 28x28 grey images with random labels among 10 classes, normalised.</summary>
    static ImageDataset SyntheticImages(int count)
    {
        var random = new DataRandom(0);
        var pixels = new byte[count * 784];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)random.Next(256);
        var labels = Enumerable.Range(0, count).Select(_ => (long)random.Next(10)).ToArray();
        var data = new ImageDataset(pixels, labels, 1, 28, 28, Enumerable.Range(0, 10).Select(c => c.ToString()).ToArray());
        data.Normalization = data.ComputeNormalization();
        return data;
    }

    static (double SamplesPerSecond, string Version)? PyTorch(int steps, int rounds)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "../../../../pytorch_train_throughput.py");
        if (!File.Exists(script)) script = Path.Combine("bench", "pytorch_train_throughput.py");
        if (!File.Exists("/usr/bin/python3") || !File.Exists(script))
        {
            Console.WriteLine("PyTorch peer not run: /usr/bin/python3 or bench/pytorch_train_throughput.py is missing");
            return null;
        }
        var start = new ProcessStartInfo("/usr/bin/python3", [script, "--threads", Threads.ToString(), "--steps", steps.ToString(), "--rounds", rounds.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"PyTorch peer failed (exit {process.ExitCode}): {errors.Trim().Split('\n').LastOrDefault()}");
            return null;
        }
        using var json = JsonDocument.Parse(output.Trim().Split('\n').Last());
        return (json.RootElement.GetProperty("samples_per_second").GetDouble(), json.RootElement.GetProperty("torch").GetString() ?? "?");
    }
}
