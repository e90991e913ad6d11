using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Recipes;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp demo</c>: the comparison recipe examples/demo.yaml (built into the command), run by the library's
/// <see cref="ComparisonPipeline"/>: LeNet-5 trained on Fashion-MNIST, then pruned with global magnitude at
/// 50/80/90/95%, with 2:4, and structurally (half the channels of every layer removed, so the model itself shrinks),
/// each fine-tuned briefly, and pruned at initialisation by SynFlow to 90% then trained as the dense model; sparsity,
/// MACs, accuracy and latency per model. The verb only turns its flags into
/// overrides of the recipe (<see cref="Overrides"/>) and renders the rows; <c>prunesharp run examples/demo.yaml</c>
/// runs the same study. The library caches every step in the folder, records the rows in its run store
/// (<c>runs.db</c>) and writes the HTML report (<c>demo-report/report.html</c> by default).
/// </summary>
static class DemoCommand
{
    /// <summary>Where positions in the built-in recipe point (its text is examples/demo.yaml's).</summary>
    public const string Source = "examples/demo.yaml (built in)";

    /// <summary>The text of examples/demo.yaml, embedded in the command.</summary>
    public static string RecipeText()
    {
        using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream("demo.yaml")
            ?? throw new InvalidOperationException("the demo's recipe (demo.yaml) is not embedded in this build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The demo's flags as overrides of its recipe (paths made absolute; flags left out leave the recipe's values).</summary>
    public static IReadOnlyList<RecipeOverride> Overrides(string folder, string report, int? epochs, int? finetuneEpochs, int? finetuneExamples, int? threads, bool recompute)
    {
        static string Quoted(string path) => $"'{Path.GetFullPath(path).Replace("'", "''")}'";
        static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
        var overrides = new List<RecipeOverride> { new("comparison.folder", Quoted(folder)), new("comparison.report", Quoted(report)) };
        if (epochs is { } e) overrides.Add(new("comparison.dense.epochs", N(e)));
        if (finetuneEpochs is { } f) overrides.Add(new("recovery.epochs", N(f)));
        if (finetuneExamples is { } x) overrides.Add(new("data.train_examples", N(x)));
        if (threads is { } t) overrides.AddRange([new("comparison.dense.threads", N(t)), new("recovery.threads", N(t))]);
        if (recompute) overrides.Add(new("comparison.recompute", "true"));
        return overrides;
    }

    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Folder for the demo's models and cached results (default ~/.prunesharp/cache/demo)." };
        var epochs = new Option<int?>("--epochs") { Description = "Training epochs of the dense model (default 2)." };
        var finetune = new Option<int?>("--finetune-epochs") { Description = "Fine-tuning epochs after each pruning (default 1)." };
        var examples = new Option<int?>("--finetune-examples") { Description = "Training examples each fine-tune epoch sees (the first ones of the training set; default all 60,000)." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };
        var json = new Option<bool>("--json") { Description = "Print the table as JSON." };
        var recompute = new Option<bool>("--recompute") { Description = "Ignore the cached results in the folder and compute every step again." };
        var report = new Option<string>("--report") { Description = "HTML report of the demo's runs.", DefaultValueFactory = _ => Path.Combine("demo-report", "report.html") };
        var set = new Option<string[]>("--set") { Description = "Override a key of the demo's recipe (examples/demo.yaml): KEY=VALUE, e.g. data.test_examples=1000. Repeatable." };
        var command = new Command("demo",
            "Train LeNet-5 on Fashion-MNIST, prune it (global magnitude 50/80/90/95%, 2:4, half the channels), fine-tune, train it pruned at initialisation (SynFlow 90%), " +
            "and compare sparsity, MACs and accuracy. " +
            "Finished steps are cached and reused. The demo is the recipe examples/demo.yaml: prunesharp run examples/demo.yaml runs the same.")
        {
            output, epochs, finetune, examples, threads, json, recompute, report, set,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(epochs) is < 1) throw new ArgumentException($"--epochs must be at least 1, got {parse.GetValue(epochs)}");
            if (parse.GetValue(examples) is < 1) throw new ArgumentException($"--finetune-examples must be positive, got {parse.GetValue(examples)}");
            if (parse.GetValue(finetune) is < 0) throw new ArgumentException($"--finetune-epochs must be non-negative, got {parse.GetValue(finetune)}");
            if (parse.GetValue(threads) is < 1) throw new ArgumentException($"--threads must be positive, got {parse.GetValue(threads)}");
            string folder = parse.GetValue(output) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".prunesharp", "cache", "demo");
            var overrides = Overrides(folder, parse.GetValue(report)!, parse.GetValue(epochs), parse.GetValue(finetune), parse.GetValue(examples), parse.GetValue(threads),
                parse.GetValue(recompute)).Concat((parse.GetValue(set) ?? []).Select(RecipeOverride.Parse)).ToList();
            if (RunCommand.Read(() => Recipe.Parse(RecipeText(), Source, overrides), Source) is not { } recipe) return 1;
            Render(TrainCommand.WithCtrlC(token => ComparisonPipeline.Run(recipe.Comparison!, Verbosity.Progress, token)), parse.GetValue(json));
            return 0;
        });
        return command;
    }

    /// <summary>Prints a comparison's rows as the demo's table (or JSON), with what the columns mean and where the report is.</summary>
    public static void Render(ComparisonResult result, bool json)
    {
        var rows = result.Rows;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { folder = result.Folder, report = result.Report, rows }, Table.Json));
            return;
        }
        var d = result.Description;
        Console.WriteLine($"{d.Model} on {d.Data.Source} (test set, {result.TestExamples.ToString("N0", CultureInfo.InvariantCulture)} images); models and results in {result.Folder}");
        Console.WriteLine();
        string Acc(double? a) => a is { } v ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-";
        var table = rows.Select(r => (IReadOnlyList<string>)new[]
        {
            r.Label, r.Smaller ? "smaller" : (100 * r.Sparsity).ToString("F1", CultureInfo.InvariantCulture) + "%", PruneCommand.Count(r.NonZeros),
            PruneCommand.Count(r.EffectiveMacs), Acc(r.AccuracyAfterPruning), Acc(r.Accuracy), r.LatencyMs is { } l ? l.ToString("F3", CultureInfo.InvariantCulture) : "-",
        });
        Table.Write(Console.Out, new[] { "method", "sparsity", "non-zeros", "effective MACs", "acc. pruned", "acc. fine-tuned", "latency (ms)" }, table);
        Console.WriteLine();
        Console.WriteLine($"sparsity: of the pruned weights; non-zeros: of all {PruneCommand.Count(rows[0].Parameters)} parameters; dense MACs {PruneCommand.Count(rows[0].DenseMacs)} per image.");
        if (rows.Any(r => r.Smaller))
            Console.WriteLine("smaller: whole channels were removed, so the model itself shrank (its non-zeros are its parameters, its MACs run on any hardware).");
        if (d.Variants.Any(v => v.AtInit is not null))
            Console.WriteLine("at init: pruned before training, then trained as the dense model (same initialisation, data and epochs), so it has no accuracy right after pruning.");
        if (d.Latency is { } timing)
            Console.WriteLine($"latency: ONNX Runtime, batch 1, {timing.Threads} thread(s), median of {timing.Rounds} calls alternating with the dense model (zeros are not skipped: only the smaller model is faster).");
        Console.WriteLine($"report (open in a browser): {result.Report}; the runs are in {result.Store} (prunesharp runs list --store ...).");
    }
}
