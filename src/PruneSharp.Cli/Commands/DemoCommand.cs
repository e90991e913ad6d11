using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Files;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;
using PruneSharp.Reporting;
using PruneSharp.Runs;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp demo</c>: trains LeNet-5 on Fashion-MNIST, prunes it with global magnitude at 50/80/90/95%, with
/// 2:4, and structurally (half the channels of every layer removed, so the model itself shrinks), fine-tunes each
/// briefly, and prints sparsity, MACs, accuracy and latency per method. The dense model is a training description run
/// by the library's <see cref="TrainingPipeline"/> and each pruned row a pipeline description run by its <see cref="Pipeline"/>,
/// as recipes would be. Every step's result is cached
/// (ONNX model and a JSON record, written atomically) so that a re-run, or a run after an interruption, only does the
/// steps that are missing. The rows are then recorded as runs in the folder's own run store (<c>runs.db</c>, rebuilt
/// from the rows on every demo) and rendered as an HTML report (<c>demo-report/report.html</c> by default).
/// </summary>
static class DemoCommand
{
    /// <summary>One line of the demo table.</summary>
    sealed record Row(string Key, string Slug, string Method, double Sparsity, long Parameters, long NonZeros, long DenseMacs, long EffectiveMacs,
        double? AccuracyAfterPruning, double Accuracy, double Seconds, bool Smaller = false, double? LatencyMs = null, double? DenseLatencyMs = null);

    /// <summary>A pruned row: one pipeline stage on the dense model, followed by the demo's fine-tune.</summary>
    sealed record Variant(string Slug, string Method, StageDescription Stage);

    static readonly Variant[] Variants =
    [
        .. new[] { 0.5, 0.8, 0.9, 0.95 }.Select(s => new Variant($"global-{s * 100:0}", $"global magnitude {s * 100:0}%",
            new StageDescription("magnitude", s, Scope: "global", FirstLast: "prune"))),
        // 2:4 groups weights along the input dimension; LeNet-5's convolutions have 1 and 6 input channels, which groups
        // of 4 do not divide, so they stay dense (reported as left dense) and the fully connected layers (400, 120, 84 inputs) are pruned.
        new Variant("2of4", "2:4 (fc layers)", new StageDescription("magnitude", 0.5, "2:4", FirstLast: "prune")),
        // Half the channels of every coupled group (L2 filter norm) removed by surgery: a smaller dense model, whose
        // non-zeros are its parameters and whose MACs are its own.
        new Variant("channels-50", "channels L2 50%", new StageDescription("l2", null, Structure: "channel", Ratio: 0.5)),
    ];

    /// <summary>How every row's latency is measured (ONNX Runtime, batch 1).</summary>
    static readonly LatencyDescription Timing = new(Threads: 1);

    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Folder for the demo's models and cached results (default ~/.prunesharp/cache/demo)." };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs of the dense model.", DefaultValueFactory = _ => 2 };
        var finetune = new Option<int>("--finetune-epochs") { Description = "Fine-tuning epochs after each pruning.", DefaultValueFactory = _ => 1 };
        var examples = new Option<int>("--finetune-examples") { Description = "Training examples each fine-tune epoch sees (the first ones of the training set; default all 60,000).", DefaultValueFactory = _ => 60_000 };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };
        var json = new Option<bool>("--json") { Description = "Print the table as JSON." };
        var recompute = new Option<bool>("--recompute") { Description = "Ignore the cached results in the folder and compute every step again." };
        var report = new Option<string>("--report") { Description = "HTML report of the demo's runs.", DefaultValueFactory = _ => Path.Combine("demo-report", "report.html") };
        var command = new Command("demo",
            "Train LeNet-5 on Fashion-MNIST, prune it (global magnitude 50/80/90/95%, 2:4, half the channels), fine-tune, and compare sparsity, MACs and accuracy. " +
            "Finished steps are cached and reused.")
        {
            output, epochs, finetune, examples, threads, json, recompute, report,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(epochs) < 1) throw new ArgumentException($"--epochs must be at least 1, got {parse.GetValue(epochs)}");
            if (parse.GetValue(examples) < 1) throw new ArgumentException($"--finetune-examples must be positive, got {parse.GetValue(examples)}");
            if (parse.GetValue(finetune) < 0) throw new ArgumentException($"--finetune-epochs must be non-negative, got {parse.GetValue(finetune)}");
            string folder = Path.GetFullPath(parse.GetValue(output)
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".prunesharp", "cache", "demo"));
            if (parse.GetValue(recompute) && Directory.Exists(folder))
                foreach (var cached in Directory.EnumerateFiles(folder, "lenet-5-*.json")) File.Delete(cached);
            var rows = Run(folder, parse.GetValue(epochs), parse.GetValue(finetune), parse.GetValue(examples), parse.GetValue(threads));
            string reportPath = Path.GetFullPath(parse.GetValue(report)!);
            Report(folder, rows, reportPath);
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(new { folder, report = reportPath, rows }, Table.Json));
            else Print(folder, rows, reportPath);
        });
        return command;
    }

    static IReadOnlyList<Row> Run(string folder, int epochs, int finetuneEpochs, int finetuneExamples, int? threads)
    {
        ImageDataset train, test;
        try
        {
            train = IdxImages.LoadFashionMnist(DataSplit.Train);
            test = IdxImages.LoadFashionMnist(DataSplit.Test);
        }
        catch (DataNotFoundException)
        {
            throw new ArgumentException("Fashion-MNIST not found; install it with: apt-get install dataset-fashion-mnist");
        }
        Directory.CreateDirectory(folder);
        if (threads is { } t) TorchSharp.torch.set_num_threads(t);
        // The data's hashes are part of every key: other Fashion-MNIST files (or a changed loader) recompute every step.
        string denseKey = $"lenet-5 fashion-mnist {RunFingerprint.Hash(train)}/{RunFingerprint.Hash(test)} seed 0 epochs {epochs} sgd 0.05 cosine batch 128";
        string denseModel = Path.Combine(folder, "lenet-5-dense.onnx");
        var dense = Cached(Path.Combine(folder, "lenet-5-dense.json"), denseKey, () =>
        {
            ProgressBar.Status($"[1/{Variants.Length + 1}] training LeNet-5 on Fashion-MNIST for {epochs} epochs");
            var clock = Stopwatch.StartNew();
            // The dense model is a training run of the library, as train's flags or a recipe's training section describe it.
            var training = new TrainingDescription("lenet-5", new DataDescription(DataLocations.FashionMnist), new ExportDescription(denseModel),
                new RecoveryDescription("finetune", epochs, 128, "sgd", 0.05, 0.9, 5e-4, "cosine", Threads: threads));
            try
            {
                TrainCommand.WithCtrlC(token => TrainingPipeline.Run(training, Verbosity.Progress, token));
            }
            catch (TrainingInterruptedException e)
            {
                throw new OperationCanceledException("interrupted; finished steps are cached, run the demo again to continue", e);
            }
            using var model = OnnxFile.Load(denseModel);
            var latency = ModelBenchmark.Run(denseModel, new ModelBenchmarkOptions { Threads = Timing.Threads, Rounds = Timing.Rounds }).Batches[0].Rows[0].Latency.Median * 1e3;
            return Measure(denseKey, "dense", "dense (no pruning)", model, test, null, clock) with { LatencyMs = latency, DenseLatencyMs = latency };
        }, () => File.Exists(denseModel));
        var rows = new List<Row> { dense };
        for (int i = 0; i < Variants.Length; i++)
        {
            var variant = Variants[i];
            var pipeline = new PipelineDescription(denseModel, new DataDescription(DataLocations.FashionMnist, TrainExamples: finetuneExamples), [variant.Stage],
                new RecoveryDescription("finetune", finetuneEpochs, 128, "sgd", 0.01, 0.9, 5e-4, "cosine", Threads: threads),
                new ExportDescription(Path.Combine(folder, $"lenet-5-{variant.Slug}.onnx")), Seed: 0, Latency: Timing);
            string key = $"{denseKey} | {JsonSerializer.Serialize(pipeline with { Export = null })}";
            string step = $"[{i + 2}/{Variants.Length + 1}]";
            rows.Add(Cached(Path.Combine(folder, $"lenet-5-{variant.Slug}.json"), key, () =>
            {
                ProgressBar.Status($"{step} {variant.Method}: prune, fine-tune {finetuneEpochs} epoch(s) of {Math.Min(finetuneExamples, train.Count)} examples");
                var result = TrainCommand.WithCtrlC(token => Pipeline.Run(pipeline, Verbosity.Progress, token));
                var stage = result.Stages[0];
                return new Row(key, variant.Slug, variant.Method, stage.Unstructured is { } u ? PrunedSparsity(u.Outcome) : 0, stage.Weights.Parameters, stage.Weights.NonZeros,
                    stage.DenseMacs, stage.Macs, (stage.AfterPruning ?? stage.After)!.Top1, stage.After!.Top1, result.Elapsed.TotalSeconds, Smaller: stage.Channels is not null,
                    result.Latency!.Median * 1e3, result.Latency.DenseMedian * 1e3);
            }, () => true));
        }
        return rows;
    }

    /// <summary>The sparsity of the weights an unstructured stage could prune.</summary>
    static double PrunedSparsity(UnstructuredOutcome o)
    {
        var layers = o.Sparsity.Layers.Where(l => o.Prunable.Contains(l.Name)).ToList();
        return new SparsityReport(layers).Sparsity;
    }

    static Row Measure(string key, string slug, string method, GraphModule model, ImageDataset test, double? afterPruning, Stopwatch clock,
        HashSet<string>? prunable = null)
    {
        var input = test.GetBatch(new[] { 0 }).Inputs;
        var macs = MacCounter.Measure(model, new[] { input });
        var all = SparsityReport.Measure(model);
        var pruned = SparsityReport.Measure(model, prunable is null ? null : prunable.Contains);
        double accuracy = Evaluator.Classify(model, test).Top1;
        return new Row(key, slug, method, prunable is null ? 0 : pruned.Sparsity, all.Parameters, all.NonZeros, macs.DenseMacs, macs.EffectiveMacs,
            afterPruning, accuracy, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The row stored at <paramref name="path"/> if it was made with <paramref name="key"/>; else computes and stores it.</summary>
    static Row Cached(string path, string key, Func<Row> compute, Func<bool> artefactsPresent)
    {
        if (File.Exists(path) && artefactsPresent())
        {
            try
            {
                if (JsonSerializer.Deserialize<Row>(File.ReadAllText(path)) is { } row && row.Key == key)
                {
                    ProgressBar.Status($"reusing {row.Method} from {path}");
                    return row;
                }
            }
            catch (JsonException)
            {
                // A damaged cache entry is recomputed.
            }
        }
        var result = compute();
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, result, Table.Json));
        return result;
    }

    /// <summary>
    /// Records every row as a completed run in <c>runs.db</c> in <paramref name="folder"/> (made afresh, so that the
    /// store holds exactly this table) and writes the report of that store to <paramref name="reportPath"/>.
    /// </summary>
    static void Report(string folder, IReadOnlyList<Row> rows, string reportPath)
    {
        ProgressBar.Status($"recording {rows.Count} runs and writing {reportPath}");
        string storePath = Path.Combine(folder, "runs.db");
        foreach (string file in new[] { storePath, storePath + "-wal", storePath + "-shm" }) File.Delete(file);
        using var store = RunStores.Open(storePath);
        foreach (var row in rows)
        {
            // The row's model file: the layers' sparsity and the artifact's hash come from what the demo wrote.
            string model = Path.Combine(folder, $"lenet-5-{row.Slug}.onnx");
            using var recorder = RunRecorder.Begin(store, new RunStart
            {
                Kind = "demo", Name = row.Method, Group = "demo", Model = "lenet-5", Dataset = "fashion-mnist", Seed = 0,
                Method = row.Slug.StartsWith("global-", StringComparison.Ordinal) ? "magnitude/global" : row.Method,
                TargetSparsity = row.Smaller ? null : row.Sparsity,
                Parameters = new Dictionary<string, string> { ["cache_key"] = row.Key },
            });
            var metrics = new Dictionary<string, double>
            {
                [MetricNames.Accuracy] = row.Accuracy, [MetricNames.Sparsity] = row.Sparsity, [MetricNames.Parameters] = row.Parameters,
                [MetricNames.DenseParameters] = rows[0].Parameters, [MetricNames.NonZeros] = row.NonZeros, [MetricNames.Macs] = row.DenseMacs,
                [MetricNames.EffectiveMacs] = row.EffectiveMacs, [MetricNames.DenseAccuracy] = rows[0].Accuracy,
            };
            if (row.LatencyMs is { } latency) metrics[MetricNames.LatencyMs] = latency;
            if (row.DenseLatencyMs is { } denseLatency) metrics[MetricNames.DenseLatencyMs] = denseLatency;
            metrics[PipelineRecording.LatencyThreads] = Timing.Threads;
            using var saved = OnnxFile.Load(model);
            recorder.Complete(new RunOutcome
            {
                Metrics = metrics, Layers = SparsityReport.Measure(saved).Layers, Artifacts = [RunArtifact.FromFile("model", model)],
            });
        }
        Directory.CreateDirectory(Path.GetDirectoryName(reportPath)!);
        RunReport.Write(store, reportPath);
    }

    static void Print(string folder, IReadOnlyList<Row> rows, string reportPath)
    {
        Console.WriteLine($"LeNet-5 on Fashion-MNIST (test set, 10,000 images); models and results in {folder}");
        Console.WriteLine();
        string Acc(double? a) => a is { } v ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-";
        var table = rows.Select(r => (IReadOnlyList<string>)new[]
        {
            r.Method, r.Smaller ? "smaller" : (100 * r.Sparsity).ToString("F1", CultureInfo.InvariantCulture) + "%", PruneCommand.Count(r.NonZeros),
            PruneCommand.Count(r.EffectiveMacs), Acc(r.AccuracyAfterPruning), Acc(r.Accuracy), r.LatencyMs is { } l ? l.ToString("F3", CultureInfo.InvariantCulture) : "-",
        });
        Table.Write(Console.Out, new[] { "method", "sparsity", "non-zeros", "effective MACs", "acc. pruned", "acc. fine-tuned", "latency (ms)" }, table);
        Console.WriteLine();
        Console.WriteLine($"sparsity: of the pruned weights; non-zeros: of all {PruneCommand.Count(rows[0].Parameters)} parameters; dense MACs {PruneCommand.Count(rows[0].DenseMacs)} per image.");
        Console.WriteLine("smaller: whole channels were removed, so the model itself shrank (its non-zeros are its parameters, its MACs run on any hardware).");
        Console.WriteLine($"latency: ONNX Runtime, batch 1, {Timing.Threads} thread(s), median of {Timing.Rounds} calls alternating with the dense model (zeros are not skipped: only the smaller model is faster).");
        Console.WriteLine($"report (open in a browser): {reportPath}; the runs are in {Path.Combine(folder, "runs.db")} (prunesharp runs list --store ...).");
    }
}
